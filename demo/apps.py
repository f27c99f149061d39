from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and load data. It sits above every other app (it may import them
    all); nothing imports it. `demo.data` holds the people, requests and words
    as plain values; `demo.builders` makes them through the apps' services and
    models; the management commands call the builders."""

    name = "demo"
    label = "demo"
    verbose_name = "Demo data"
