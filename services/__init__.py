"""The platform's services; each runs alone as `python -m services.<name>`."""
