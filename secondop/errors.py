from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the DEBUG page, and the emails to DJANGO_ADMINS) keep the
    traceback and drop what may hold PHI: every POST value, the query string,
    the cookies and every local variable. `sensitive_post_parameters` on the
    views that take PHI is the second line, for other reporters."""

    def is_active(self, request):
        return True  # with DEBUG on too: a developer's screen can be shared

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_safe_cookies(self, request):
        return dict.fromkeys(getattr(request, "COOKIES", {}), self.cleansed_substitute)

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "HTTP_COOKIE", "HTTP_REFERER"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class PHISafeExceptionReporter(ExceptionReporter):
    """Also hides the query string's values, which the filter cannot reach."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = [
                (key, self.filter.cleansed_substitute) for key in self.request.GET
            ]
            data["request_insecure_uri"] = self.request.path
        return data
