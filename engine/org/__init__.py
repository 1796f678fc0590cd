"""The org tree and who acts in it: actors and their grants, the permission table
(permissions), scoped queries (scope) and changes to the tree (org)."""
