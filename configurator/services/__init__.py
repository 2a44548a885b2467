"""Services own changes: each does its work in one transaction and raises a readable error."""
