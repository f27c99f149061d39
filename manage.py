#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
    from django.core.management import execute_from_command_line

    from secondop.audit.context import audit_source

    # What a command writes to the audit log says which command wrote it.
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    with audit_source(f"command:{command}"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
