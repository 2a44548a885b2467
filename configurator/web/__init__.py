"""Blueprints, one module per audience: shop, api (JSON for the shop's page), planner, partners."""
