#!/usr/bin/env python3
"""Writes two-balls.avi, the capture tests' video (test-only; needs python3-opencv).

96x72 pixels, 12 frames/s, 48 frames: a red ball moving right on grey for frames 0-23, then a
blue one. Motion-JPEG in AVI, which every Qt Multimedia backend decodes.
Usage: tests/data/capture/make-video.py [OUT.avi]
"""
import sys

import cv2
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "two-balls.avi"
writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"MJPG"), 12, (96, 72))
for i in range(48):
    frame = np.full((72, 96, 3), 90, np.uint8)
    colour = (30, 30, 220) if i < 24 else (220, 60, 30)  # BGR: red, then blue
    cv2.circle(frame, (14 + (i % 24) * 3, 36), 12, colour, -1)
    writer.write(frame)
writer.release()
