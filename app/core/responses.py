"""Responses shared by the domains."""

from urllib.parse import quote

from fastapi.responses import Response


def download(content: bytes, filename: str, media_type: str, fallback_stem: str = "download") -> Response:
    """A file download. The name is sent RFC 5987-encoded so Chinese names survive, with a plain
    ASCII name (`fallback_stem` + the extension) for old clients."""
    fallback = fallback_stem + filename[filename.find(".") :] if "." in filename else fallback_stem
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
