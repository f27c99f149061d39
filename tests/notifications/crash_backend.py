"""An email backend for the crash tests' worker process: the file backend, except
that it kills its own process (SIGKILL, so nothing gets to clean up) at the
point named by SECONDOP_TEST_CRASH_AT:

- "before_send": before a byte is written (the server never saw the message);
- "during_send": after half of the message (the server saw an incomplete one);
- "after_send":  after the whole message (the server accepted it).

Selected through the worker's environment: MAIL_FILE_BACKEND (settings.py)."""

import os
import signal

from django.core.mail.backends.filebased import EmailBackend as FileBackend

CRASH_AT_ENV = "SECONDOP_TEST_CRASH_AT"
SEPARATOR = b"-" * 79


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class CrashingEmailBackend(FileBackend):
    def _get_filename(self):
        # Its own file name, so a later worker's message is never appended to a
        # half-written one.
        if self._fname is None:
            self._fname = os.path.join(self.file_path, f"crashed-worker-{os.getpid()}.log")
        return self._fname

    def write_message(self, message):
        crash_at = os.environ.get(CRASH_AT_ENV, "")
        data = message.message().as_bytes() + b"\n" + SEPARATOR + b"\n"
        if crash_at == "before_send":
            _die()
        if crash_at == "during_send":
            data = data[: len(data) // 2]
        self.stream.write(data)
        self.stream.flush()
        os.fsync(self.stream.fileno())
        if crash_at in {"during_send", "after_send"}:
            _die()
