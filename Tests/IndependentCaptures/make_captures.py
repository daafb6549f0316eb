#!/usr/bin/env python3
"""Independent capture generator for judging `ledsentry analyze` (issue 3).

Written without reading the Swift CaptureSimulator, so that its assumptions are not shared.
The physics, in order:

  scene      a pinhole camera looks at a flat display (tilt <= 15 deg in a random direction,
             roll <= 5 deg) placed so it fills 40-95% of the frame; radial (barrel) lens
             distortion is applied to every projected point.
  emitters   each LED is one emitter (mono displays) or three R, G, B sub-pixels side by side,
             round or square; every emitter is integrated over its area by projecting a
             stratified, jittered set of points through the exact camera model and adding
             their flux into the pixel each lands in (box-filter pixel integration).
  lens       PSF = Gaussian (aberrations) convolved with a pillbox (defocus), built on a
             4x fine grid and integrated to pixels; plus a faint wide veiling-glare halo;
             cos^4-style vignetting.
  scene      wall with low-frequency texture, posters/door frames, a cabinet frame around
             the display, the display's dark face, a few bright specks (lamps, reflections).
  sensor     optional RGGB Bayer mosaic + bilinear demosaic; Poisson shot noise at a chosen
             full-well, Gaussian read noise; quantisation to 8 or 16 bit (16-bit PGM may use
             a 12- or 14-bit maxval); JPEG captures are sRGB-encoded and written at q85.

Ground truth is written in the `--json` defect format of issue 3 (x, y, kind, channel), one
`<name>.truth.json` per scene; `scene` in it holds every parameter (reproduce with --seed).

Usage: make_captures.py --out DIR [--seed S] [--count N] [--set key=value ...]
"""
import argparse
import json
import math
import os
import struct
import zlib

import numpy as np
from scipy import ndimage, signal

GRIDS = [(64, 32), (96, 48), (128, 64), (160, 90), (192, 108), (256, 128), (320, 180),
         (384, 216), (128, 128), (240, 135)]
CAMERAS = [(1920, 1080), (2560, 1440), (3000, 2000), (3840, 2160), (4032, 3024), (6000, 4000)]
FORMATS = ["pgm", "png", "jpg"]
MODULES = [(64, 32), (32, 16), (16, 16), (32, 32)]
# Camera channel response (rows R, G, B) to red, green and blue LED light (columns):
# colour filters overlap, so a green LED leaks into red and blue.
CROSSTALK = np.array([[1.00, 0.09, 0.02],
                      [0.12, 1.00, 0.16],
                      [0.01, 0.11, 1.00]])
MONO_SENSOR = np.array([0.30, 0.58, 0.12])   # a gray sensor's response to R, G, B LED light


# ----------------------------------------------------------------------------- scene choice

def choose_scene(rng, overrides):
    """All random parameters of one scene (overrides: key -> value from --set)."""
    s = {}
    for _ in range(500):
        cols, rows = GRIDS[rng.integers(len(GRIDS))]
        W, H = CAMERAS[rng.integers(len(CAMERAS))]
        if "grid" in overrides:
            cols, rows = map(int, overrides["grid"].split("x"))
        if "camera" in overrides:
            W, H = map(int, overrides["camera"].split("x"))
        # pitch in pixels must stay ~3..11 and the fill 40..95% (of the limiting dimension)
        aspect = cols / rows
        limit_w = min(W, H * aspect)            # display width at 100% fill
        lo = max(0.40, 3.2 * cols / limit_w)
        hi = min(0.95, 11.0 * cols / limit_w)
        if lo <= hi or ("grid" in overrides and "camera" in overrides):
            break
    s["grid"] = [cols, rows]
    s["camera"] = [W, H]
    s["fill"] = float(overrides.get("fill", rng.uniform(lo, hi) if lo <= hi else 0.6))
    s["pattern"] = str(overrides.get("pattern", rng.choice(
        ["white", "white", "white", "red", "green", "blue", "black", "black"])))
    s["format"] = overrides.get("format", rng.choice(FORMATS))
    color_pattern = s["pattern"] in ("red", "green", "blue")
    s["rgb_capture"] = bool(int(overrides.get("rgb_capture",
                            rng.random() < (0.9 if color_pattern else 0.5))))
    s["bits"] = int(overrides.get("bits", 8 if s["format"] == "jpg" else rng.choice([8, 16])))
    if s["format"] == "jpg":
        s["bits"] = 8
    s["maxval"] = 255 if s["bits"] == 8 else int(
        rng.choice([65535, 65535, 4095, 16383]) if s["format"] == "pgm" else 65535)
    s["display"] = overrides.get("display",
                                 "rgb" if color_pattern or rng.random() < 0.7 else "mono")
    s["emitter"] = overrides.get("emitter", rng.choice(["round", "square"]))
    s["module"] = list(MODULES[rng.integers(len(MODULES))])
    s["seam_gap"] = float(rng.choice([0.0, rng.uniform(0.05, 0.35)]))
    s["module_jitter"] = float(rng.uniform(0.0, 0.06))
    s["module_gain_spread"] = float(rng.uniform(0.0, 0.05))
    s["led_spread"] = 0.10
    tilt = float(overrides.get("tilt", rng.uniform(0, 15)))
    direction = rng.uniform(0, 2 * math.pi)
    s["yaw"] = tilt * math.cos(direction)
    s["pitch"] = tilt * math.sin(direction)
    s["roll"] = float(overrides.get("roll", rng.uniform(-5, 5)))
    s["hfov"] = float(rng.uniform(50, 72))
    s["k1"] = float(overrides.get("k1", -rng.uniform(0.0, 0.06)))
    s["psf_sigma"] = float(overrides.get("psf_sigma", rng.uniform(0.45, 1.3)))
    s["defocus_radius"] = float(rng.choice([0.0, rng.uniform(0.3, 1.4)]))
    s["glare"] = float(rng.uniform(0.005, 0.03))
    s["vignetting"] = float(rng.uniform(0.1, 0.4))
    s["exposure"] = float(rng.uniform(0.5, 0.85))     # healthy LED peak as fraction of full scale
    s["full_well"] = float(rng.uniform(3000, 25000))
    s["read_noise"] = float(rng.uniform(2, 10))
    s["bayer"] = bool(s["rgb_capture"] and rng.random() < 0.5)
    s["wall_level"] = float(rng.uniform(0.02, 0.18))
    s["cabinet_level"] = float(rng.uniform(0.04, 0.3))
    s["face_level"] = float(rng.uniform(0.005, 0.03))
    s["specks"] = int(rng.integers(2, 10))
    s["healthy"] = bool(int(overrides.get("healthy", rng.random() < 0.15)))
    for k, v in overrides.items():      # remaining scalar overrides
        if k in s and not isinstance(s[k], list) and k not in ("grid", "camera"):
            s[k] = type(s[k])(v) if not isinstance(s[k], bool) else bool(int(v))
    return s


# ----------------------------------------------------------------------------- defects

def choose_defects(rng, s):
    """Per-LED state: gain per LED colour channel for the capture and the reference.

    Returns (gain[rows, cols, 3] for the capture, reference gain or None, truth list).
    Gains are fractions of the LED's healthy nominal level (module gain included).
    """
    cols, rows = s["grid"]
    pattern = s["pattern"]
    lit = np.ones((rows, cols, 3))        # per-channel factor when the LED is driven
    stuck = np.zeros((rows, cols, 3))     # light when the LED should be off
    truth = {}
    if s["healthy"]:
        return lit, stuck, truth
    channel = pattern if pattern in ("red", "green", "blue") else "all"
    ch_index = {"red": 0, "green": 1, "blue": 2}

    def kill(x, y, kind, factor=None, only=None):
        if not (0 <= x < cols and 0 <= y < rows):
            return
        if factor is None:
            factor = rng.uniform(0.0, 0.15) if kind == "dead" else rng.uniform(0.38, 0.62)
        if only is None:
            lit[y, x, :] = factor
            truth[(x, y)] = (kind, channel)
        else:
            lit[y, x, ch_index[only]] = factor
            if channel == only:
                truth[(x, y)] = (kind, channel)

    if pattern == "black":
        for _ in range(rng.integers(1, 40)):
            x, y = int(rng.integers(cols)), int(rng.integers(rows))
            stuck[y, x, :] = rng.uniform(0.5, 1.0)
            truth[(x, y)] = ("stuck", "all")
        if rng.random() < 0.4:    # a stuck cluster
            x0, y0 = int(rng.integers(cols - 3)), int(rng.integers(rows - 3))
            for dy in range(rng.integers(1, 4)):
                for dx in range(rng.integers(2, 4)):
                    stuck[y0 + dy, x0 + dx, :] = rng.uniform(0.5, 1.0)
                    truth[(x0 + dx, y0 + dy)] = ("stuck", "all")
        if rng.random() < 0.3:    # stuck LEDs on the display's edge
            for _ in range(rng.integers(1, 5)):
                x = int(rng.choice([0, cols - 1])) if rng.random() < 0.5 else int(rng.integers(cols))
                y = int(rng.integers(rows)) if x in (0, cols - 1) else int(rng.choice([0, rows - 1]))
                stuck[y, x, :] = rng.uniform(0.5, 1.0)
                truth[(x, y)] = ("stuck", "all")
        # the white reference may itself have dead LEDs (not at stuck ones)
        if rng.random() < 0.5:
            for _ in range(rng.integers(1, 8)):
                x, y = int(rng.integers(cols)), int(rng.integers(rows))
                if (x, y) not in truth:
                    lit[y, x, :] = rng.uniform(0.0, 0.15)
        return lit, stuck, {k: v for k, v in truth.items()}

    for _ in range(rng.integers(0, 40)):
        kill(int(rng.integers(cols)), int(rng.integers(rows)), "dead")
    for _ in range(rng.integers(0, 30)):
        kill(int(rng.integers(cols)), int(rng.integers(rows)), "dim")
    if rng.random() < 0.5:        # dead clusters
        for _ in range(rng.integers(1, 4)):
            x0, y0 = int(rng.integers(cols - 3)), int(rng.integers(rows - 3))
            for dy in range(rng.integers(2, 4)):
                for dx in range(rng.integers(2, 4)):
                    kill(x0 + dx, y0 + dy, "dead")
    if rng.random() < 0.5:        # dead row segment (a broken row driver)
        y = int(rng.integers(rows))
        x0 = int(rng.integers(cols // 2))
        for x in range(x0, min(cols, x0 + int(rng.integers(4, cols // 2 + 1)))):
            kill(x, y, "dead")
    if rng.random() < 0.5:        # dead column segment
        x = int(rng.integers(cols))
        y0 = int(rng.integers(rows // 2))
        for y in range(y0, min(rows, y0 + int(rng.integers(4, rows // 2 + 1)))):
            kill(x, y, "dead")
    if rng.random() < 0.3:        # a dead module
        mw, mh = s["module"]
        mx = int(rng.integers(max(1, cols // mw))) * mw
        my = int(rng.integers(max(1, rows // mh))) * mh
        for y in range(my, min(rows, my + mh)):
            for x in range(mx, min(cols, mx + mw)):
                kill(x, y, "dead", factor=rng.uniform(0.0, 0.05))
    if rng.random() < 0.5:        # dead and dim LEDs on the display's edge, corners included
        for _ in range(rng.integers(1, 8)):
            if rng.random() < 0.5:
                x, y = int(rng.choice([0, cols - 1])), int(rng.integers(rows))
            else:
                x, y = int(rng.integers(cols)), int(rng.choice([0, rows - 1]))
            kill(x, y, "dead" if rng.random() < 0.8 else "dim")
        if rng.random() < 0.4:
            kill(0, 0, "dead")
            kill(cols - 1, rows - 1, "dead")
    if rng.random() < 0.25:       # a dead segment along an edge line
        if rng.random() < 0.5:
            y = int(rng.choice([0, rows - 1]))
            x0 = int(rng.integers(cols // 2))
            for x in range(x0, x0 + int(rng.integers(4, cols // 3))):
                kill(x, y, "dead")
        else:
            x = int(rng.choice([0, cols - 1]))
            y0 = int(rng.integers(rows // 2))
            for y in range(y0, y0 + int(rng.integers(4, rows // 3))):
                kill(x, y, "dead")
    if s["display"] == "rgb":     # single-colour sub-pixel failures
        # Under white, an LED with one failed colour still gives the other colours' light:
        # its class follows from what the capture measures (mean of R, G, B, or a gray
        # sensor's response). Failures whose fraction lies near 30% or 70% are ambiguous
        # and are not generated; the others are in the truth as dead/dim or as healthy.
        weights = CROSSTALK.sum(axis=0) if s["rgb_capture"] else MONO_SENSOR
        for _ in range(rng.integers(0, 30)):
            only = str(rng.choice(["red", "green", "blue"]))
            x, y = int(rng.integers(cols)), int(rng.integers(rows))
            if (x, y) in truth or (lit[y, x] < 1).any():
                continue
            factor = rng.uniform(0.0, 0.15) if rng.random() < 0.7 else rng.uniform(0.38, 0.62)
            if channel != "all":
                kill(x, y, "dead" if factor < 0.3 else "dim", factor=factor, only=only)
                continue
            trial = np.ones(3)
            trial[ch_index[only]] = factor
            fraction = float(weights @ trial / weights.sum())
            if fraction < 0.25 or 0.35 < fraction < 0.65:
                kill(x, y, "dead" if fraction < 0.3 else "dim", factor=factor, only=only)
                truth[(x, y)] = ("dead" if fraction < 0.3 else "dim", "all")
            elif fraction > 0.75:
                lit[y, x, ch_index[only]] = factor      # still healthy by the definition
    return lit, stuck, truth


# ----------------------------------------------------------------------------- camera model

def rotation(yaw, pitch, roll):
    a, b, c = map(math.radians, (yaw, pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


class Camera:
    def __init__(self, s, display_w, display_h, rng):
        W, H = s["camera"]
        self.W, self.H = W, H
        self.f = W / (2 * math.tan(math.radians(s["hfov"]) / 2))
        self.cx = W / 2 + rng.uniform(-0.01, 0.01) * W
        self.cy = H / 2 + rng.uniform(-0.01, 0.01) * H
        self.k1 = s["k1"]
        self.r_ref2 = ((W / 2) ** 2 + (H / 2) ** 2) / self.f ** 2
        self.R = rotation(s["yaw"], s["pitch"], s["roll"])
        self.dw, self.dh = display_w, display_h
        self.normal = self.R @ np.array([0.0, 0.0, 1.0])
        # distance: scale until the outline's bounding box fills the wanted fraction
        self.C = np.array([0.0, 0.0, self.f * display_w / (s["fill"] * W)])
        for _ in range(4):
            x, y = self.project(*self.outline())
            frac = max((x.max() - x.min()) / W, (y.max() - y.min()) / H)
            self.C[2] *= frac / s["fill"]
        # move the display off-centre as far as the frame allows
        x, y = self.project(*self.outline())
        margin = 0.02 * W
        sx = rng.uniform(min(0, margin - x.min()), max(0, W - margin - x.max()))
        sy = rng.uniform(min(0, margin - y.min()), max(0, H - margin - y.max()))
        self.C[0] += sx * self.C[2] / self.f
        self.C[1] += sy * self.C[2] / self.f

    def outline(self):
        u = np.array([0, self.dw, self.dw, 0.0])
        v = np.array([0, 0, self.dh, self.dh])
        return u, v

    def project(self, u, v):
        """Display-plane coordinates (LED pitches, origin top-left) -> distorted pixels."""
        p = np.stack([u - self.dw / 2, v - self.dh / 2, np.zeros_like(u)])
        X = self.R @ p.reshape(3, -1) + self.C[:, None]
        xn, yn = X[0] / X[2], X[1] / X[2]
        factor = 1 + self.k1 * (xn * xn + yn * yn) / self.r_ref2
        return (self.f * xn * factor + self.cx).reshape(np.shape(u)), \
               (self.f * yn * factor + self.cy).reshape(np.shape(u))

    def unproject(self, px, py):
        """Pixels -> display-plane coordinates (inverse distortion by fixed-point iteration)."""
        xd, yd = (px - self.cx) / self.f, (py - self.cy) / self.f
        xn, yn = xd.copy(), yd.copy()
        for _ in range(6):
            factor = 1 + self.k1 * (xn * xn + yn * yn) / self.r_ref2
            xn, yn = xd / factor, yd / factor
        ray = np.stack([xn, yn, np.ones_like(xn)])
        t = (self.normal @ self.C) / np.tensordot(self.normal, ray, axes=1)
        P = ray * t - self.C.reshape(3, *([1] * xn.ndim))
        local = np.tensordot(self.R.T, P, axes=1)
        return local[0] + self.dw / 2, local[1] + self.dh / 2


# ----------------------------------------------------------------------------- rendering

def led_centres(s, rng):
    """Display-plane centres of all LEDs (seams between modules, small module offsets)."""
    cols, rows = s["grid"]
    mw, mh = s["module"]
    gap = s["seam_gap"]
    i = np.arange(cols)
    j = np.arange(rows)
    u = i + 0.5 + gap * (i // mw)
    v = j + 0.5 + gap * (j // mh)
    nmx, nmy = (cols + mw - 1) // mw, (rows + mh - 1) // mh
    jit = rng.normal(0, s["module_jitter"], size=(nmy, nmx, 2))
    U = u[None, :] + jit[j // mh][:, i // mw, 0]
    V = v[:, None] + jit[j // mh][:, i // mw, 1]
    gains = 1 + rng.uniform(-1, 1, size=(nmy, nmx)) * s["module_gain_spread"]
    module_gain = gains[j // mh][:, i // mw]
    width = cols + gap * ((cols - 1) // mw)
    height = rows + gap * ((rows - 1) // mh)
    return U, V, module_gain, width, height


def emitter_points(shape, n, rng):
    """Stratified, jittered points in [-1,1]^2 (inside the unit disk for round emitters)."""
    g = (np.arange(n) + 0.5) / n * 2 - 1
    x, y = np.meshgrid(g, g)
    x = x + rng.uniform(-1, 1, x.shape) / n
    y = y + rng.uniform(-1, 1, y.shape) / n
    x, y = x.ravel(), y.ravel()
    if shape == "round":
        keep = x * x + y * y <= 1
        x, y = x[keep], y[keep]
    return x, y


def subpixel_layout(s):
    """(offset u, offset v, half width, half height, LED colour index or -1 for white)."""
    if s["display"] == "mono":
        return [(0.0, 0.0, 0.27, 0.27, -1)]
    hw, hh = 0.10, 0.24
    return [(-0.26, 0.0, hw, hh, 0), (0.0, 0.0, hw, hh, 1), (0.26, 0.0, hw, hh, 2)]


def render_emission(s, cam, U, V, intensity, rng):
    """Integrate every emitter over its area into per-LED-colour planes (float32)."""
    W, H = s["camera"]
    pitch_px = s["pitch_px"]
    planes = {}
    for du, dv, hw, hh, colour in subpixel_layout(s):
        n = int(np.clip(math.ceil(2 * max(hw, hh) * pitch_px * 2.5), 4, 12))
        ex, ey = emitter_points(s["emitter"], n, rng)
        k = len(ex)
        val = intensity[..., max(colour, 0)] if colour >= 0 else intensity.mean(axis=-1)
        lit = val.ravel() > 0
        uc, vc, w = U.ravel()[lit], V.ravel()[lit], val.ravel()[lit] / k
        pu = (uc[:, None] + du + ex[None, :] * hw).ravel()
        pv = (vc[:, None] + dv + ey[None, :] * hh).ravel()
        px, py = cam.project(pu, pv)
        ix, iy = np.floor(px).astype(np.int64), np.floor(py).astype(np.int64)
        inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        weights = np.repeat(w, k)[inside]
        acc = np.bincount(iy[inside] * W + ix[inside], weights=weights, minlength=W * H)
        key = max(colour, 0) if colour >= 0 else "white"
        plane = acc.reshape(H, W).astype(np.float32)
        planes[key] = planes[key] + plane if key in planes else plane
    return planes


def psf_kernel(sigma, radius):
    """Gaussian (sigma px) convolved with a pillbox (radius px), integrated to pixels."""
    sub = 4
    half = int(math.ceil(3.5 * sigma + radius + 1))
    g = (np.arange(-half * sub, (half + 1) * sub) + 0.5) / sub - 0.5
    x, y = np.meshgrid(g, g)
    k = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    if radius > 0:
        disk = ((x * x + y * y) <= radius * radius).astype(float)
        k = signal.fftconvolve(k, disk / disk.sum(), mode="same")
    n = 2 * half + 1
    k = k[: n * sub, : n * sub].reshape(n, sub, n, sub).sum(axis=(1, 3))
    return (k / k.sum()).astype(np.float32)


def blur(plane, kernel, glare):
    out = signal.oaconvolve(plane, kernel, mode="same").astype(np.float32)
    if glare > 0:      # veiling glare: a faint, very wide halo, computed at 1/8 scale
        H, W = plane.shape
        h8, w8 = H // 8, W // 8
        small = plane[: h8 * 8, : w8 * 8].reshape(h8, 8, w8, 8).mean(axis=(1, 3))
        small = ndimage.gaussian_filter(small, 40 / 8)
        halo = ndimage.zoom(small, (H / h8, W / w8), order=1)[:H, :W]
        out = out * (1 - glare) + glare * halo
    return out


def background(s, cam, rng, led_level):
    """Wall, posters, cabinet frame and the display's dark face at 1/4 scale, upsampled."""
    W, H = s["camera"]
    step = 4
    h4, w4 = (H + step - 1) // step, (W + step - 1) // step
    py, px = np.mgrid[0:h4, 0:w4].astype(np.float64) * step + step / 2
    wall = ndimage.gaussian_filter(rng.normal(0, 1, (h4, w4)), 25)
    wall = s["wall_level"] * (1 + 0.35 * wall / (wall.std() + 1e-9))
    wall *= 1 + 0.5 * (px / W - 0.5) * rng.uniform(-1, 1)      # lighting gradient
    for _ in range(rng.integers(2, 7)):                            # posters, door frames
        x0, y0 = rng.uniform(0, W), rng.uniform(0, H)
        w, h = rng.uniform(0.05, 0.3) * W, rng.uniform(0.05, 0.4) * H
        inside = (px > x0) & (px < x0 + w) & (py > y0) & (py < y0 + h)
        wall[inside] = s["wall_level"] * rng.uniform(0.3, 2.5)
    # display-plane coordinates are smooth: map at 1/4 scale, interpolate to full resolution
    # and cut the cabinet and face edges there, so they are straight, not 4-px staircases
    u4, v4 = cam.unproject(px, py)
    u = ndimage.zoom(u4.astype(np.float32), step, order=1)[:H, :W]
    v = ndimage.zoom(v4.astype(np.float32), step, order=1)[:H, :W]
    img = ndimage.zoom(wall.astype(np.float32), step, order=1)[:H, :W]
    margin = rng.uniform(0.3, 1.0)
    frame = rng.uniform(2, 8)
    dw, dh = cam.dw, cam.dh
    in_face = (u > -margin) & (u < dw + margin) & (v > -margin) & (v < dh + margin)
    in_cab = (u > -margin - frame) & (u < dw + margin + frame) & \
             (v > -margin - frame) & (v < dh + margin + frame)
    cabinet = np.float32(s["cabinet_level"])
    bevel = (np.abs(u + margin + frame * 0.5) < 0.3) | (np.abs(v + margin + frame * 0.5) < 0.3)
    img = np.where(in_cab, np.where(bevel, cabinet * 1.6, cabinet), img)
    img = np.where(in_face, np.float32(s["face_level"]), img)
    img = ndimage.gaussian_filter(img, s["psf_sigma"]).astype(np.float32) * led_level
    face_full = in_cab
    # bright specks (lamps, reflections) outside the display face
    for _ in range(s["specks"]):
        for _ in range(50):
            x, y = int(rng.integers(8, W - 8)), int(rng.integers(8, H - 8))
            if not face_full[y, x]:
                break
        r = rng.uniform(0.8, 3)
        yy, xx = np.mgrid[-8:9, -8:9]
        spot = np.exp(-(xx * xx + yy * yy) / (2 * r * r)).astype(np.float32)
        img[y - 8:y + 9, x - 8:x + 9] += spot * led_level * rng.uniform(0.5, 2.0)
    return img


def vignette(s):
    W, H = s["camera"]
    y, x = np.ogrid[0:H, 0:W]
    r2 = ((x - W / 2) ** 2 + (y - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)
    return (1 - s["vignetting"] * r2).astype(np.float32)


def bayer_demosaic(rgb, noise_fn):
    """RGGB mosaic, noise on the mosaic, bilinear demosaic."""
    H, W, _ = rgb.shape
    masks = np.zeros((3, H, W), np.float32)
    masks[0, 0::2, 0::2] = 1
    masks[1, 0::2, 1::2] = 1
    masks[1, 1::2, 0::2] = 1
    masks[2, 1::2, 1::2] = 1
    mosaic = (rgb.transpose(2, 0, 1) * masks).sum(axis=0)
    mosaic = noise_fn(mosaic)
    kg = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
    krb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
    out = np.empty_like(rgb)
    for c, k in ((0, krb), (1, kg), (2, krb)):
        out[..., c] = ndimage.convolve(mosaic * masks[c], k, mode="mirror")
    return out


# ----------------------------------------------------------------------------- writing

def srgb_encode(x):
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def write_png(path, data, bits):
    """PNG writer (gray or RGB, 8 or 16 bit), so 16-bit RGB needs no extra library."""
    H, W = data.shape[:2]
    channels = 1 if data.ndim == 2 else data.shape[2]
    arr = data.astype(">u2" if bits == 16 else np.uint8).reshape(H, W * channels)
    raw = np.zeros((H, 1 + arr.shape[1] * arr.itemsize), np.uint8)
    raw[:, 1:] = arr.view(np.uint8).reshape(H, -1)

    def chunk(tag, payload):
        return struct.pack(">I", len(payload)) + tag + payload + \
            struct.pack(">I", zlib.crc32(tag + payload) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", W, H, bits, 0 if channels == 1 else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                chunk(b"IDAT", zlib.compress(raw.tobytes(), 3)) + chunk(b"IEND", b""))


def write_capture(path, light, s):
    """light: linear, 1.0 = full scale. Quantise and write in the scene's format."""
    fmt = s["format"]
    if fmt == "jpg":
        from PIL import Image
        enc = np.round(srgb_encode(light) * 255).astype(np.uint8)
        Image.fromarray(enc, "L" if enc.ndim == 2 else "RGB").save(path, quality=85)
        return
    maxval = s["maxval"]
    q = np.round(np.clip(light, 0, 1) * maxval)
    if fmt == "png":
        write_png(path, q, s["bits"])
        return
    magic = b"P5" if q.ndim == 2 else b"P6"
    H, W = q.shape[:2]
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n%d\n" % (W, H, maxval))
        f.write(q.astype(">u2" if maxval > 255 else np.uint8).tobytes())


# ----------------------------------------------------------------------------- one scene

def render_capture(s, cam, U, V, intensity, bg, vig, rng, kernel):
    """Camera frame (float, linear, 1.0 = full scale) of LEDs with `intensity` [rows,cols,3]."""
    planes = render_emission(s, cam, U, V, intensity, rng)
    W, H = s["camera"]
    if s["display"] == "mono":
        base = blur(planes["white"], kernel, s["glare"])
        lights = [base * 1.0] * 3 if s["rgb_capture"] else None
        gray = base
    else:
        blurred = {c: blur(p, kernel, s["glare"]) for c, p in planes.items()}
        zero = np.zeros((H, W), np.float32)
        led = [blurred.get(c, zero) for c in range(3)]
        lights = [sum(CROSSTALK[k, c] * led[c] for c in range(3)) for k in range(3)]
        gray = sum(MONO_SENSOR[c] * led[c] for c in range(3))
    scale = s["led_scale"]
    fw, rn = s["full_well"], s["read_noise"]

    def noise(x):
        e = rng.poisson(np.clip(x, 0, None) * fw).astype(np.float32)
        return (e + rng.normal(0, rn, x.shape).astype(np.float32)) / fw

    if s["rgb_capture"]:
        rgb = np.stack([(l * scale + bg) * vig for l in lights], axis=-1)
        if s["bayer"]:
            return bayer_demosaic(rgb, noise)
        return noise(rgb)
    return noise((gray * scale + bg) * vig)


def make_scene(seed, outdir, overrides=None):
    """Render one scene (capture, and for black a white reference) and its truth file.

    Returns the truth dict (paths included)."""
    overrides = overrides or {}
    rng = np.random.default_rng(seed)
    s = choose_scene(rng, overrides)
    s["seed"] = seed
    cols, rows = s["grid"]
    U, V, module_gain, dw, dh = led_centres(s, rng)
    cam = Camera(s, dw, dh, rng)
    x, y = cam.project(np.array([0.0, dw]), np.array([dh / 2, dh / 2]))
    s["pitch_px"] = float(math.hypot(x[1] - x[0], y[1] - y[0]) / dw)
    # the capture must resolve the lattice ("LEDs separated by dark gaps"): cap the total
    # blur at a third of the pitch
    blur_total = math.hypot(s["psf_sigma"], s["defocus_radius"] / 2)
    if blur_total > s["pitch_px"] / 3 and "psf_sigma" not in overrides:
        shrink = s["pitch_px"] / 3 / blur_total
        s["psf_sigma"] *= shrink
        s["defocus_radius"] *= shrink
    lit, stuck, truth = choose_defects(rng, s)
    nominal = module_gain * (1 + rng.uniform(-s["led_spread"], s["led_spread"], (rows, cols)))
    pattern_on = {"white": [1, 1, 1], "red": [1, 0, 0], "green": [0, 1, 0],
                  "blue": [0, 0, 1], "black": [0, 0, 0]}[s["pattern"]]
    # defective LEDs take their level from the module's nominal, not the per-LED spread
    defective = lit < 1
    per_channel = np.where(defective, module_gain[..., None] * lit, nominal[..., None])
    capture_int = per_channel * np.array(pattern_on, float)
    if s["pattern"] == "black":
        capture_int = stuck * module_gain[..., None]
    kernel = psf_kernel(s["psf_sigma"], s["defocus_radius"])
    vig = vignette(s)
    # exposure: the healthy LED peak maps to s["exposure"] of full scale. The peak of one
    # emitter after blur, at nominal 1, is measured on a small probe render.
    probe = np.zeros((rows, cols, 3))
    probe[rows // 2, cols // 2] = np.array(pattern_on if s["pattern"] != "black" else [1, 1, 1])
    s["led_scale"] = 1.0
    planes = render_emission(s, cam, U, V, probe, rng)
    px, py = cam.project(U[rows // 2, cols // 2], V[rows // 2, cols // 2])
    r = int(4 * s["pitch_px"]) + kernel.shape[0]
    window = (slice(max(0, int(py) - r), int(py) + r), slice(max(0, int(px) - r), int(px) + r))
    peak = max(blur(p[window], kernel, 0).max() for p in planes.values())
    s["led_scale"] = float(s["exposure"] / peak)
    bg = background(s, cam, rng, s["exposure"])
    name = "scene%05d" % seed
    ext = {"pgm": ("ppm" if s["rgb_capture"] else "pgm"), "png": "png", "jpg": "jpg"}[s["format"]]
    capture = os.path.join(outdir, "%s.%s" % (name, ext))
    light = render_capture(s, cam, U, V, capture_int, bg, vig, rng, kernel)
    write_capture(capture, light, s)
    result = {"capture": capture, "grid": {"cols": cols, "rows": rows}, "pattern": s["pattern"]}
    if s["pattern"] == "black":
        ref_int = np.where(defective, module_gain[..., None] * lit, nominal[..., None])
        ref = os.path.join(outdir, "%s-ref.%s" % (name, ext))
        write_capture(ref, render_capture(s, cam, U, V, ref_int, bg, vig, rng, kernel), s)
        result["reference"] = ref
    result["defects"] = [{"x": int(x), "y": int(y), "kind": k, "channel": c}
                         for (x, y), (k, c) in sorted(truth.items(), key=lambda t: (t[0][1], t[0][0]))]
    result["scene"] = s
    with open(os.path.join(outdir, name + ".truth.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="force a scene parameter, e.g. grid=384x216 camera=6000x4000 "
                         "pattern=red format=jpg tilt=15 healthy=1")
    a = ap.parse_args()
    overrides = dict(kv.split("=", 1) for kv in a.set)
    os.makedirs(a.out, exist_ok=True)
    for seed in range(a.seed, a.seed + a.count):
        r = make_scene(seed, a.out, overrides)
        s = r["scene"]
        print("%s %dx%d %dx%d %s %s %d-bit pitch %.1f px, %d defects" % (
            r["capture"], *s["grid"], *s["camera"], s["pattern"], s["format"], s["bits"],
            s["pitch_px"], len(r["defects"])))


if __name__ == "__main__":
    main()
