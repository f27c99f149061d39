from .selectors import notification_unread_count


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that never show the header never run the query.
    return {"unread_notifications": lambda: notification_unread_count(viewer=user)}
