"""The hard cap's enforcer: a Cloud Function (2nd gen, Python) on the budget's Pub/Sub topic.

Deployed by the program (gridcloud/program/budget.py) from this package's source; it imports
no Pulumi and nothing else of gridcloud (the standard library, Google's clients and this
package travel in its source archive). ``main.on_budget_notification`` is the entry point;
``config`` the settings model the program writes and the function reads; ``decide`` the pure
reading of a message and the decision; ``gke`` the calls to the GKE and Compute Engine APIs,
converging on the cap within one deadline.
"""
