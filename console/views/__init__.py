"""The console's request handlers, one module per page or API area; console/routes.py maps
paths to them and says who may call each."""
