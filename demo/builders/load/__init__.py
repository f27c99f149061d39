"""Load data for benchmarks (seed_load): the database filled in bulk, so that
pages can be timed at a realistic size (bench/pages.py): patients (one per ~2
cases) with verified email addresses, cases at every status with their
sections, questions and timelines, and coordinators with TOTP enrolled.
100,000 cases take a couple of minutes.

Rows are written with bulk_create in one transaction, not through the
services: a service call per case would take hours. So nothing here is
notified, audited or access-logged, and every timestamp is in the past as
the plan says (see `bulk.explicit_timestamps`). Each timeline is a path of
moves the workflow allows (checked against requests_app.workflow.TRANSITIONS).

Each step is one function in `steps.STEPS`: it takes the Load (the plan, and
what the steps before it made) and returns a line for the summary. Specialists,
offers, records and reports are each one more function appended to STEPS.
Records are rows only: their bytes are not stored. The words and proportions
are in demo.data.load.
"""
