"""The local mode's upload body: read from the request stream in chunks, never
more than the declared length or the size limit."""

from django.core.files.base import File

CHUNK = 1024 * 1024


class LimitedBody(File):
    class TooLarge(Exception):
        pass

    def __init__(self, stream, *, length: int | None, limit: int):
        super().__init__(stream, name="upload")
        self._length = length
        self._limit = limit

    @property
    def size(self):
        return self._length

    def chunks(self, chunk_size=None):
        remaining = self._length if self._length is not None else self._limit + 1
        seen = 0
        while remaining > 0:
            data = self.file.read(min(chunk_size or CHUNK, remaining))
            if not data:
                break
            seen += len(data)
            remaining -= len(data)
            if seen > self._limit:
                raise self.TooLarge
            yield data

    def multiple_chunks(self, chunk_size=None):
        return True
