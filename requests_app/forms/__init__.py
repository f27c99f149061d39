"""The request's forms, by concern:

- `sections`: one form per task-list section of the patient's request;
- `case`: what is done to a sent case: the patient withdraws it or confirms the
  fee; a coordinator filters the queue, claims, moves, checks insurance, waives
  the fee step.
"""
