"""Reading Dash component trees returned by layouts and callbacks called as functions.

A tree is a component, a string or number, or a list or tuple of trees; a component's
subtree is its `children`. Searches go depth first, parents before their children.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def texts_in(component) -> list[str]:
    """Return every string (and number, as a string) in a component tree, in order."""
    if isinstance(component, str | int | float):
        return [str(component)]
    if isinstance(component, list | tuple):
        return [t for c in component for t in texts_in(c)]
    children = getattr(component, "children", None)
    return texts_in(children) if children is not None else []


def find(component, matches: Callable[[Any], bool]):
    """Return the first node of the tree for which `matches` is true, or None."""
    if isinstance(component, list | tuple):
        for c in component:
            found = find(c, matches)
            if found is not None:
                return found
        return None
    if matches(component):
        return component
    children = getattr(component, "children", None)
    return find(children, matches) if children is not None else None


def find_all(component, matches: Callable[[Any], bool], found: list | None = None) -> list:
    """Return every node of the tree for which `matches` is true."""
    found = [] if found is None else found
    if isinstance(component, list | tuple):
        for c in component:
            find_all(c, matches, found)
        return found
    if matches(component):
        found.append(component)
    children = getattr(component, "children", None)
    if children is not None:
        find_all(children, matches, found)
    return found


def _has_class(name: str) -> Callable[[Any], bool]:
    return lambda c: name in (getattr(c, "className", "") or "").split()


def find_by_id(component, id_):
    """Return the first component whose id is `id_`, or None."""
    return find(component, lambda c: getattr(c, "id", None) == id_)


def find_by_class(component, class_name: str):
    """Return the first component with `class_name` among its CSS classes, or None."""
    return find(component, _has_class(class_name))


def find_by_type(component, kind: type):
    """Return the first component that is an instance of `kind`, or None."""
    return find(component, lambda c: isinstance(c, kind))


def find_all_by_class(component, class_name: str) -> list:
    """Return every component with `class_name` among its CSS classes."""
    return find_all(component, _has_class(class_name))
