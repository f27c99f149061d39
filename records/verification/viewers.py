"""The viewer software an imaging CD carries beside its images."""

from __future__ import annotations

import re

VIEWER_NAMES = frozenset(
    {
        "autorun.inf",
        "autorun.exe",
        "desktop.ini",
        "thumbs.db",
        ".ds_store",
        "index.htm",
        "index.html",
        "setup.exe",
        "start.exe",
        "launch.exe",
        "run.exe",
    }
)
VIEWER_PREFIXES = ("readme", "read_me", "read me", "license", "licence", "eula", "copying", "._")
VIEWER_EXTENSIONS = frozenset(
    {
        ".exe",
        ".dll",
        ".inf",
        ".ini",
        ".bat",
        ".cmd",
        ".com",
        ".msi",
        ".sys",
        ".ocx",
        ".cab",
        ".jar",
        ".class",
        ".jnlp",
        ".js",
        ".css",
        ".htm",
        ".html",
        ".xml",
        ".xsl",
        ".json",
        ".chm",
        ".hlp",
        ".lnk",
        ".ico",
        ".icns",
        ".cur",
        ".cfg",
        ".conf",
        ".config",
        ".manifest",
        ".so",
        ".dylib",
        ".sh",
        ".command",
        ".vbs",
        ".ps1",
        ".lic",
        ".pak",
        ".swf",
        ".ttf",
        ".otf",
        ".woff",
        ".woff2",
        ".map",
        ".plist",
        ".dmg",
        ".pkg",
        ".app",
        ".rtf",
        ".url",
    }
)
VIEWER_FOLDERS = frozenset(
    {
        "viewer",
        "viewers",
        "dicomviewer",
        "dicom viewer",
        "cdviewer",
        "cd viewer",
        "webviewer",
        "imageviewer",
        "program",
        "programs",
        "program files",
        "bin",
        "lib",
        "jre",
        "java",
        "plugins",
        "runtime",
        "autorun",
        "help",
        "html",
        "web",
        "__macosx",
        ".fseventsd",
        ".spotlight-v100",
        ".trashes",
        "efilm",
        "radiant",
        "microdicom",
        "osirix",
        "horos",
        "weasis",
        "ezdicom",
        "kpacs",
        "k-pacs",
        "iqview",
        "onis",
        "synedra",
        "sante",
        "vepro",
        "irfanview",
    }
)


def _base_name(path: str) -> str:
    parts = [p.strip().lower() for p in re.split(r"[/\\]+", str(path or "")) if p.strip()]
    return parts[-1] if parts else ""


def is_viewer_file(path: str) -> bool:
    """True for the viewer software, scripts, web pages and autorun files an imaging
    CD carries beside its images: a study skips them instead of rejecting, and never
    keeps them (records.checking drops them from a folder and rewrites a ZIP without
    them). The DICOMDIR is not one of them: it indexes the images and is kept."""
    parts = [p.strip().lower() for p in re.split(r"[/\\]+", str(path or "")) if p.strip()]
    if not parts:
        return False
    base = parts[-1]
    if base in VIEWER_NAMES or base.startswith(VIEWER_PREFIXES):
        return True
    dot = base.rfind(".")
    if dot > 0 and base[dot:] in VIEWER_EXTENSIONS:
        return True
    return any(part in VIEWER_FOLDERS for part in parts[:-1])
