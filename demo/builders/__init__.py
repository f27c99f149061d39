"""Functions that make the demo data (`demo.data`) in the database, through the
apps' services where people would act, and in bulk for the load data."""
