"""Realistic test photos, made with Pillow (and pillow-heif for HEIC) inside the test run.

The main entry point is :func:`make_photo`. It draws a skin-toned close-up with soft lighting, a darker
mole-like blob, a few freckles and fine per-pixel texture, so that the image is "sharp" to a Laplacian
blur score, and it can carry the metadata a phone camera writes (EXIF Orientation, DateTimeOriginal,
GPS, camera make/model, an XMP packet and a JPEG comment) so tests can prove what is stripped.

Everything is deterministic for a given ``seed`` (Python's ``random.Random``; Pillow's own noise
generator is not seedable, so it is not used).

Orientation: ``width`` x ``height`` are the dimensions of the *stored* pixel array, as a camera sensor
writes it; the ``orientation`` tag is written as given. A viewer that honours the tag shows a
``height`` x ``width`` picture for orientations 5-8.

Other helpers make the awkward inputs the rejection tests need (decompression bombs, truncated files,
a GIF, a zip file).
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from datetime import datetime
from functools import cache

from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter

SKIN = (222, 176, 148)  # a light-medium skin tone
MOLE = (96, 62, 48)  # dark brown
MARKER = (255, 0, 0)  # pure red, for orientation checks

# Longitude/latitude written by gps=True: central London. Tests search outputs for these tags.
GPS_LAT = (51.0, 30.0, 26.52)
GPS_LON = (0.0, 7.0, 40.08)

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825

FORMATS = ("JPEG", "PNG", "HEIC")


def make_photo(
    width: int,
    height: int,
    *,
    fmt: str = "JPEG",
    seed: int = 0,
    orientation: int | None = None,
    captured_at: datetime | str | None = None,
    gps: bool = True,
    mark_corner: bool = False,
    icc: bool = True,
    quality: int = 90,
) -> bytes:
    """Return an encoded skin photo of ``width`` x ``height`` stored pixels.

    fmt: "JPEG", "PNG" or "HEIC" ("HEIF" is accepted as an alias).
    orientation: EXIF Orientation tag (1-8) to write, or None for no tag.
    captured_at: written as EXIF DateTimeOriginal ("YYYY:MM:DD HH:MM:SS"); an aware datetime also
        writes OffsetTimeOriginal ("+01:00"). A string is written verbatim.
    gps: write a GPS IFD with a latitude/longitude, and an XMP packet that repeats it (as phones do).
    mark_corner: paint a pure red square in the top-left corner of the stored pixels (size: an eighth
        of the shorter side), so a test can tell where that corner ended up after orientation.
    icc: embed an sRGB ICC profile (phones embed one; colour management must survive processing).
    quality: JPEG quality (JPEG only).

    Every format also gets camera make/model/software EXIF, and JPEG a COM comment, so a test can
    check that "all other metadata" really is gone.
    """
    image = render_skin(width, height, seed=seed)
    if mark_corner:
        side = max(2, min(width, height) // 8)
        ImageDraw.Draw(image).rectangle((0, 0, side - 1, side - 1), fill=MARKER)
    return encode(image, fmt=fmt, orientation=orientation, captured_at=captured_at, gps=gps, icc=icc, quality=quality)


def render_skin(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """The pixels of :func:`make_photo`: an RGB skin close-up with a mole, freckles and texture."""
    if width < 8 or height < 8:
        raise ValueError("photos must be at least 8x8")
    rng = random.Random(seed)

    # Soft lighting: a small gradient scaled up (smooth, cheap), brighter towards one side.
    shade = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((width, height), Image.Resampling.BILINEAR)
    shade = shade.point(lambda v: 255 - v // 5)  # 255 .. ~204: up to 20% darker
    base = Image.new("RGB", (width, height), SKIN)
    base = ImageChops.multiply(base, Image.merge("RGB", (shade, shade, shade)))

    draw = ImageDraw.Draw(base)
    short = min(width, height)
    # Freckles: small darker dots.
    for _ in range(12):
        r = max(1, short // rng.randint(60, 120))
        x, y = rng.randrange(width), rng.randrange(height)
        darker = rng.randint(30, 60)
        tone = tuple(max(0, c - darker) for c in SKIN)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tone)

    # The mole: an irregular dark blob near the middle with a soft (but not blurred-out) border.
    mask = Image.new("L", (width, height), 0)
    mdraw = ImageDraw.Draw(mask)
    cx = width // 2 + rng.randint(-width // 10, width // 10)
    cy = height // 2 + rng.randint(-height // 10, height // 10)
    radius = max(3, short // 8)
    for _ in range(6):
        dx = rng.randint(-radius // 3, radius // 3)
        dy = rng.randint(-radius // 3, radius // 3)
        rx = int(radius * rng.uniform(0.6, 1.0))
        ry = int(radius * rng.uniform(0.6, 1.0))
        mdraw.ellipse((cx + dx - rx, cy + dy - ry, cx + dx + rx, cy + dy + ry), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, radius // 30)))
    base.paste(Image.new("RGB", (width, height), MOLE), (0, 0), mask)

    # Hairs: thin dark slightly curved strands (sharp detail at every scale).
    hair_width = max(1, short // 700)
    for _ in range(10):
        x, y = rng.randrange(width), rng.randrange(height)
        angle_x, angle_y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        points = []
        for _step in range(6):
            points.append((x, y))
            x += int(angle_x * short / 25) + rng.randint(-short // 200 - 1, short // 200 + 1)
            y += int(angle_y * short / 25) + rng.randint(-short // 200 - 1, short // 200 + 1)
        draw.line(points, fill=(74, 52, 42), width=hair_width)

    # Pores and skin lines: mid-scale texture, about 300 cells across the short side at any size.
    cell = max(1, short // 300)
    small = (max(1, width // cell), max(1, height // cell))
    pores = Image.frombytes("L", small, rng.randbytes(small[0] * small[1])).resize((width, height), Image.Resampling.BICUBIC)
    pores = pores.point(lambda v: v * 20 // 255)  # 0..20, applied as -10..+10
    base = ImageChops.add(base, Image.merge("RGB", (pores, pores, pores)), scale=1.0, offset=-10)

    # Fine texture (sensor noise): zero-mean uniform noise of +/- 8 levels on every pixel.
    amplitude = 8
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    noise = noise.point(lambda v: v * (2 * amplitude) // 255)
    return ImageChops.add(base, Image.merge("RGB", (noise, noise, noise)), scale=1.0, offset=-amplitude)


def make_exif(
    *,
    orientation: int | None = None,
    captured_at: datetime | str | None = None,
    gps: bool = True,
    camera: bool = True,
) -> Image.Exif:
    """EXIF as a phone writes it (camera make/model, capture time, GPS position, orientation)."""
    exif = Image.Exif()
    if camera:
        exif[0x010F] = "SkinVaultTestCam"  # Make
        exif[0x0110] = "Phone 15"  # Model
        exif[0x0131] = "TestOS 1.0"  # Software
    if orientation is not None:
        exif[0x0112] = orientation
    if captured_at is not None:
        sub = exif.get_ifd(_EXIF_IFD)
        if isinstance(captured_at, datetime):
            sub[0x9003] = captured_at.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
            offset = captured_at.strftime("%z")
            if offset:
                sub[0x9011] = f"{offset[:3]}:{offset[3:]}"  # OffsetTimeOriginal
        else:
            sub[0x9003] = captured_at
        sub[0xA434] = "Back camera 6.9mm f/1.8"  # LensModel: "other" metadata that must go
    if gps:
        gps_ifd = exif.get_ifd(_GPS_IFD)
        gps_ifd[0] = b"\x02\x02\x00\x00"  # GPSVersionID
        gps_ifd[1] = "N"
        gps_ifd[2] = GPS_LAT
        gps_ifd[3] = "W"
        gps_ifd[4] = GPS_LON
    return exif


def make_xmp(*, gps: bool = True) -> bytes:
    """A small XMP packet like the ones phones write (with the position when gps=True)."""
    position = "<exif:GPSLatitude>51,30.44N</exif:GPSLatitude><exif:GPSLongitude>0,7.67W</exif:GPSLongitude>" if gps else ""
    return (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        b"<xmp:CreatorTool>TestOS Camera</xmp:CreatorTool>" + position.encode() + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
        b'<?xpacket end="w"?>'
    )


@cache
def srgb_icc() -> bytes:
    """An sRGB ICC profile (made once: lcms stamps the creation time into the header)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(
    image: Image.Image,
    *,
    fmt: str = "JPEG",
    orientation: int | None = None,
    captured_at: datetime | str | None = None,
    gps: bool = True,
    icc: bool = True,
    quality: int = 90,
) -> bytes:
    """Encode any Pillow image the way a phone would, with the metadata make_photo describes."""
    fmt = fmt.upper()
    exif = make_exif(orientation=orientation, captured_at=captured_at, gps=gps)
    xmp = make_xmp(gps=gps)
    icc_profile = srgb_icc() if icc else None
    out = io.BytesIO()
    if fmt in ("JPEG", "JPG"):
        params: dict = {"quality": quality, "exif": exif, "comment": b"Taken with SkinVaultTestCam", "xmp": xmp}
        if icc_profile:
            params["icc_profile"] = icc_profile
        image.save(out, "JPEG", **params)
    elif fmt == "PNG":
        from PIL import PngImagePlugin

        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "Taken with SkinVaultTestCam")
        text.add_itxt("XML:com.adobe.xmp", xmp.decode())
        params = {"exif": exif, "pnginfo": text}
        if icc_profile:
            params["icc_profile"] = icc_profile
        image.save(out, "PNG", **params)
    elif fmt in ("HEIC", "HEIF"):
        register_heif()
        params = {"quality": quality, "exif": exif.tobytes(), "xmp": xmp}
        if icc_profile:
            params["icc_profile"] = icc_profile
        image.save(out, "HEIF", **params)
    else:
        raise ValueError(f"unsupported test format {fmt!r}; use one of {FORMATS}")
    return out.getvalue()


def register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


# --- awkward inputs ---------------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def make_bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid 1-bit greyscale PNG of one colour: a few tens of KB that decode to width*height pixels.

    Built row by row with zlib so that making it never allocates the decoded image either.
    """
    row = b"\x00" + bytes((width + 7) // 8)  # filter type 0 + one bit per pixel, all black
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b"")


def make_bomb_jpeg(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small real JPEG whose frame header (SOF) claims width x height pixels."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), SKIN).save(out, "JPEG")
    data = bytearray(out.getvalue())
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[pos + 5 : pos + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        pos += 2 + length
    raise AssertionError("no SOF marker found")


def truncate(data: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` fraction of a file, as an interrupted upload leaves it."""
    return data[: int(len(data) * keep)]


def make_gif(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    render_skin(width, height).convert("P").save(out, "GIF")
    return out.getvalue()


def make_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.txt", "not really a photo")
    return out.getvalue()


def make_animated_png(width: int = 64, height: int = 48) -> bytes:
    frames = [render_skin(width, height, seed=i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()
