"""The demo data `make run` loads: org, users and items that tell coherent stories."""
