"""htmx helpers: render a whole page or one named block of it, and htmx-aware redirects."""
from flask import current_app, make_response, redirect, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """A targeted htmx request wants a block; boosted navigation and history restore want a page."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template_name: str, block: str | None = None, status: int = 200, **context):
    env = current_app.jinja_env
    template = env.get_template(template_name)
    current_app.update_template_context(context)
    if block is not None and wants_fragment():
        ctx = template.new_context(context)
        body = "".join(template.blocks[block](ctx))
    else:
        body = template.render(context)
    response = make_response(body, status)
    response.headers.add("Vary", "HX-Request")
    return response


def hx_redirect(location: str, status: int = 303):
    """Redirect a plain request with Location, an htmx request with HX-Redirect."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=status)


def trigger(response, event: str):
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return response
