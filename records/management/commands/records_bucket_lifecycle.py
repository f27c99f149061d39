"""Give the records bucket its lifecycle rule: unfinished multipart uploads are
aborted a day after they started (AWS S3 and other servers that take
AbortIncompleteMultipartUpload; MinIO does not, and is set up by minio-init in
docker-compose.yml instead). Safe to run again: other rules are kept."""

from django.core.management.base import BaseCommand, CommandError

from records import storage


class Command(BaseCommand):
    help = "Abort the records bucket's unfinished multipart uploads after a day (lifecycle rule)."

    def handle(self, *args, **options):
        if not storage.s3_mode():
            self.stdout.write("No bucket (local files): nothing to set.")
            return
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            rules = storage.ensure_lifecycle_rule()
        except (BotoCoreError, ClientError) as error:
            raise CommandError(f"The bucket refused the lifecycle rule: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(rules)} lifecycle rule(s); unfinished multipart uploads are aborted "
                f"{storage.ABORT_INCOMPLETE_AFTER_DAYS} day after they start."
            )
        )
