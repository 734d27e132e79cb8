"""Code that runs inside the cluster, not in gridcloud: each module is shipped in a
ConfigMap and run by a Job in another image (standard library, and what that image has)."""
