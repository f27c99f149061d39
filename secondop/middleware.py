from django.conf import settings
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    """Headers Django has no setting for.

    - `Cache-Control: no-store, private` on every response to a signed-in person:
      after signing out on a shared computer, the back button must not bring a
      diagnosis back from the browser's cache. (Views that serve PHI to someone
      not signed in, such as a token link, mark themselves with `never_cache`.)
    - `Permissions-Policy` switching off the browser features no page uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers.pop("Expires", None)
            patch_cache_control(
                response,
                no_store=True,
                private=True,
                no_cache=True,
                must_revalidate=True,
                max_age=0,
            )
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
