from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and load data. It sits above every other app (it may import them
    all); nothing imports it."""

    name = "secondop.demo"
    label = "demo"
    verbose_name = "Demo data"
