"""The hard cap's enforcer: a Cloud Function (2nd gen, Python) on the budget's Pub/Sub topic.

Deployed by the program (gridcloud/program/budget.py) from this package's source; it imports
no Pulumi and nothing else of gridcloud. ``main.on_budget_notification`` is the entry point;
``decide`` is the pure decision; ``gke`` the calls to the GKE and Compute Engine APIs.
"""
