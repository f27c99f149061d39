from django.conf import settings


def site(request):
    return {"support_email": settings.SECONDOP_SUPPORT_EMAIL}
