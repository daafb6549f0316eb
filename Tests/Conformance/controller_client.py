"""An independent client for the LEDSentry controller protocol v1.

Written from Docs/controller-protocol.md alone (no firmware or Swift sources consulted),
so that it checks the document as much as the device. Standard library only.

Layers, each usable on its own:
  Frame / FrameDecoder   section 1: framing, CRC-32, resynchronisation, 100 ms gap rule
  PAYLOADS               section 4: every request and response payload, parse + serialize
  SerialPort             a raw termios byte stream with deadlines (PTY or tty)
  ControllerClient       section 2: request ids, RETRY re-sends, timeouts, event queueing
"""

import os
import select
import struct
import termios
import time
import zlib

SOF = b"\xa5\x5a"
HEADER_SIZE = 10           # sof1 .. length
CRC_SIZE = 4
MAX_PAYLOAD = 1024
PROTOCOL_VERSION = 1
INCOMPLETE_FRAME_GAP = 0.100   # seconds without a byte before a partial frame is abandoned

FLAG_RESPONSE = 0x01
FLAG_EVENT = 0x02
FLAG_RETRY = 0x04
FLAGS_RESERVED = 0xF8

# Section 4 command codes.
HELLO, IDENTIFY, CABINET_INFO, GET_PARAM, SET_PARAM, SHOW_PATTERN, MODULE_TEST, \
    READ_LED_STATUS, READ_TELEMETRY, READ_EVENTS, CLEAR_EVENTS, REBOOT = range(0x01, 0x0D)
EVENT = 0x80
COMMAND_NAMES = {
    HELLO: "HELLO", IDENTIFY: "IDENTIFY", CABINET_INFO: "CABINET_INFO", GET_PARAM: "GET_PARAM",
    SET_PARAM: "SET_PARAM", SHOW_PATTERN: "SHOW_PATTERN", MODULE_TEST: "MODULE_TEST",
    READ_LED_STATUS: "READ_LED_STATUS", READ_TELEMETRY: "READ_TELEMETRY",
    READ_EVENTS: "READ_EVENTS", CLEAR_EVENTS: "CLEAR_EVENTS", REBOOT: "REBOOT", EVENT: "EVENT",
}

# Section 3 status codes.
STATUS_NAMES = ["OK", "UNKNOWN_COMMAND", "BAD_LENGTH", "OUT_OF_RANGE", "UNSUPPORTED_VERSION",
                "NOT_FOUND", "BUSY", "HARDWARE_FAULT", "READ_ONLY", "UNKNOWN_PARAMETER",
                "BAD_ARGUMENT"]
OK, UNKNOWN_COMMAND, BAD_LENGTH, OUT_OF_RANGE, UNSUPPORTED_VERSION, NOT_FOUND, BUSY, \
    HARDWARE_FAULT, READ_ONLY, UNKNOWN_PARAMETER, BAD_ARGUMENT = range(11)

# Section 2 timing.
ATTEMPT_TIMEOUT = 0.5
MODULE_TEST_ATTEMPT_TIMEOUT = 2.5
RETRIES = 3


def status_name(status):
    return STATUS_NAMES[status] if status < len(STATUS_NAMES) else "0x%02X" % status


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


class ProtocolError(Exception):
    """A frame or payload that breaks the document's rules."""


class LinkTimeout(Exception):
    """No matching response after every attempt."""


# --------------------------------------------------------------------------- section 1

class Frame:
    __slots__ = ("version", "flags", "request_id", "command", "status", "payload")

    def __init__(self, command, payload=b"", request_id=0, flags=0, status=0,
                 version=PROTOCOL_VERSION):
        self.version, self.flags, self.request_id = version, flags, request_id
        self.command, self.status, self.payload = command, status, bytes(payload)

    def serialize(self):
        if len(self.payload) > MAX_PAYLOAD:
            raise ProtocolError("payload of %d bytes exceeds %d" % (len(self.payload), MAX_PAYLOAD))
        body = struct.pack("<BBHBBH", self.version, self.flags, self.request_id,
                           self.command, self.status, len(self.payload)) + self.payload
        return SOF + body + struct.pack("<I", crc32(body))

    @classmethod
    def parse(cls, data):
        """Exactly one whole frame; raises ProtocolError naming what is wrong."""
        data = bytes(data)
        if len(data) < HEADER_SIZE + CRC_SIZE:
            raise ProtocolError("frame of %d bytes is shorter than 14" % len(data))
        if data[:2] != SOF:
            raise ProtocolError("frame does not start with A5 5A")
        version, flags, request_id, command, status, length = struct.unpack_from("<BBHBBH", data, 2)
        if flags & FLAGS_RESERVED:
            raise ProtocolError("reserved flag bits set: 0x%02X" % flags)
        if length > MAX_PAYLOAD:
            raise ProtocolError("length %d exceeds %d" % (length, MAX_PAYLOAD))
        if len(data) != HEADER_SIZE + length + CRC_SIZE:
            raise ProtocolError("frame is %d bytes, its length field says %d"
                                % (len(data), HEADER_SIZE + length + CRC_SIZE))
        (crc,) = struct.unpack_from("<I", data, HEADER_SIZE + length)
        if crc != crc32(data[2:HEADER_SIZE + length]):
            raise ProtocolError("bad CRC")
        return cls(command, data[HEADER_SIZE:HEADER_SIZE + length], request_id, flags, status, version)

    def __repr__(self):
        return "Frame(v%d flags=%d id=%d %s %s len=%d)" % (
            self.version, self.flags, self.request_id, COMMAND_NAMES.get(self.command, hex(self.command)),
            status_name(self.status), len(self.payload))


class FrameDecoder:
    """Streaming receiver of section 1: hunt A5 5A, reject bad headers and CRCs by
    dropping only the first byte, abandon a partial frame after a 100 ms gap."""

    def __init__(self):
        self.buffer = bytearray()
        self.last_byte_at = None
        self.rejected = 0

    def feed(self, data, now=None):
        """Frames completed by these bytes (after applying the gap rule to older ones)."""
        now = time.monotonic() if now is None else now
        frames = self.expire(now)
        if data:
            self.buffer += data
            self.last_byte_at = now
        return frames + self._drain()

    def expire(self, now=None):
        """Apply the gap rule: bytes waiting more than 100 ms can not finish a frame, so
        the partial frame is abandoned like a rejected one (drop its first byte, hunt on)."""
        now = time.monotonic() if now is None else now
        frames = []
        if self.buffer and now - self.last_byte_at > INCOMPLETE_FRAME_GAP:
            while self.buffer:
                del self.buffer[0]
                frames += self._drain()
        return frames

    def _drain(self):
        frames = []
        while True:
            frame, progressed = self._next()
            if frame is not None:
                frames.append(frame)
            elif not progressed:
                return frames

    def _next(self):
        start = self.buffer.find(SOF)
        if start < 0:
            keep = 1 if self.buffer.endswith(SOF[:1]) else 0
            progressed = len(self.buffer) > keep
            del self.buffer[:len(self.buffer) - keep]
            return None, progressed
        if start:
            del self.buffer[:start]
            return None, True
        if len(self.buffer) < HEADER_SIZE:
            return None, False
        flags = self.buffer[3]
        (length,) = struct.unpack_from("<H", self.buffer, 8)
        if flags & FLAGS_RESERVED or length > MAX_PAYLOAD:
            return self._reject()
        total = HEADER_SIZE + length + CRC_SIZE
        if len(self.buffer) < total:
            return None, False
        (crc,) = struct.unpack_from("<I", self.buffer, HEADER_SIZE + length)
        if crc != crc32(bytes(self.buffer[2:HEADER_SIZE + length])):
            return self._reject()
        frame = Frame.parse(self.buffer[:total])
        del self.buffer[:total]
        return frame, True

    def _reject(self):
        self.rejected += 1
        del self.buffer[0]
        return None, True


# --------------------------------------------------------------------------- section 4

class Reader:
    def __init__(self, data):
        self.data, self.at = bytes(data), 0

    def take(self, fmt):
        size = struct.calcsize("<" + fmt)
        if self.at + size > len(self.data):
            raise ProtocolError("payload ends inside a field (needs %d bytes at %d of %d)"
                                % (size, self.at, len(self.data)))
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += size
        return values[0] if len(values) == 1 else values

    def string(self):
        length = self.take("B")
        if length > 64:
            raise ProtocolError("string length %d exceeds 64" % length)
        raw = self.rest(length)
        return raw.decode("utf-8")

    def rest(self, count=None):
        count = len(self.data) - self.at if count is None else count
        if self.at + count > len(self.data):
            raise ProtocolError("payload ends inside a field")
        raw = self.data[self.at:self.at + count]
        self.at += count
        return raw

    def end(self):
        if self.at != len(self.data):
            raise ProtocolError("%d unexpected bytes after the payload" % (len(self.data) - self.at))


def put_string(text):
    raw = text.encode("utf-8")
    if len(raw) > 64:
        raise ProtocolError("string of %d bytes exceeds 64" % len(raw))
    return bytes([len(raw)]) + raw


class Layout:
    """A flat payload: a list of (name, struct code or 'str'), parsed into a dict."""

    def __init__(self, *fields):
        self.fields = fields

    def parse(self, data):
        reader = Reader(data)
        result = self.parse_from(reader)
        reader.end()
        return result

    def parse_from(self, reader):
        return {name: reader.string() if code == "str" else reader.take(code)
                for name, code in self.fields}

    def fixed_size(self):
        """Bytes of the payload, or None when a string makes it variable."""
        if any(code == "str" for _, code in self.fields):
            return None
        return sum(struct.calcsize("<" + code) for _, code in self.fields)

    def serialize(self, values):
        out = b""
        for name, code in self.fields:
            out += put_string(values[name]) if code == "str" else struct.pack("<" + code, values[name])
        return out


EVENT_RECORD = Layout(("sequence", "I"), ("uptime_seconds", "I"), ("type", "B"),
                      ("reserved", "B"), ("cabinet", "H"), ("value", "h"))
MODULE_RECORD = Layout(("module", "B"), ("result", "B"), ("supply_millivolts", "H"),
                       ("driver_ics_expected", "B"), ("driver_ics_found", "B"))


class WithRecords:
    """A head layout, a u8 count, then count fixed-size records (4.6, 4.9)."""

    def __init__(self, head, record, key):
        self.head, self.record, self.key = head, record, key

    def parse(self, data):
        reader = Reader(data)
        result = self.head.parse_from(reader)
        count = reader.take("B")
        result[self.key] = [self.record.parse_from(reader) for _ in range(count)]
        reader.end()
        return result

    def serialize(self, values):
        records = values[self.key]
        return (self.head.serialize(values) + bytes([len(records)])
                + b"".join(self.record.serialize(r) for r in records))


class WithData:
    """A head layout followed by raw bytes to the end (4.7)."""

    def __init__(self, head):
        self.head = head

    def parse(self, data):
        reader = Reader(data)
        result = self.head.parse_from(reader)
        result["data"] = reader.rest()
        return result

    def serialize(self, values):
        return self.head.serialize(values) + bytes(values["data"])


EMPTY = Layout()
REQUESTS = {
    HELLO: Layout(("min_version", "B"), ("max_version", "B")),
    IDENTIFY: EMPTY,
    CABINET_INFO: Layout(("cabinet", "H")),
    GET_PARAM: Layout(("param_id", "B")),
    SET_PARAM: Layout(("param_id", "B"), ("value", "i")),
    SHOW_PATTERN: Layout(("pattern", "B"), ("argument", "H")),
    MODULE_TEST: Layout(("cabinet", "H")),
    READ_LED_STATUS: Layout(("cabinet", "H"), ("offset", "I"), ("max_bytes", "H")),
    READ_TELEMETRY: Layout(("cabinet", "H")),
    READ_EVENTS: Layout(("first_sequence", "I"), ("max_count", "B")),
    CLEAR_EVENTS: EMPTY,
    REBOOT: EMPTY,
}
RESPONSES = {
    HELLO: Layout(("version", "B"), ("max_payload", "H"), ("capabilities", "I")),
    IDENTIFY: Layout(("model", "str"), ("serial", "str"), ("firmware", "str"),
                     ("hardware_revision", "str"), ("cabinet_columns", "H"), ("cabinet_rows", "H"),
                     ("modules_x", "B"), ("modules_y", "B"), ("module_width", "H"),
                     ("module_height", "H")),
    CABINET_INFO: Layout(("cabinet", "H"), ("serial", "str"), ("firmware", "str"),
                         ("hardware_revision", "str"), ("calibration_checksum", "I")),
    GET_PARAM: Layout(("param_id", "B"), ("value", "i"), ("min", "i"), ("max", "i")),
    SET_PARAM: Layout(("param_id", "B"), ("value", "i")),
    SHOW_PATTERN: Layout(("pattern", "B"), ("argument", "H")),
    MODULE_TEST: WithRecords(Layout(("cabinet", "H")), MODULE_RECORD, "modules"),
    READ_LED_STATUS: WithData(Layout(("cabinet", "H"), ("total", "I"), ("offset", "I"))),
    READ_TELEMETRY: Layout(("cabinet", "H"), ("temperature_decicelsius", "h"),
                           ("supply_millivolts", "H"), ("fan_rpm", "H"), ("runtime_hours", "I"),
                           ("power_cycles", "I")),
    READ_EVENTS: WithRecords(Layout(("stored", "H")), EVENT_RECORD, "events"),
    CLEAR_EVENTS: Layout(("cleared", "H")),
    REBOOT: EMPTY,
    EVENT: EVENT_RECORD,
}
ERROR_PAYLOADS = {
    OUT_OF_RANGE: Layout(("param_id", "B"), ("min", "i"), ("max", "i")),
    UNSUPPORTED_VERSION: Layout(("min_version", "B"), ("max_version", "B")),
}


def parse_response(frame):
    """The payload of a response or event frame as a dict (section 3 for errors)."""
    if frame.status == OK:
        layout = RESPONSES.get(frame.command)
        if layout is None:
            raise ProtocolError("no response layout for command 0x%02X" % frame.command)
        return layout.parse(frame.payload)
    layout = ERROR_PAYLOADS.get(frame.status, EMPTY)
    return layout.parse(frame.payload)


def serialize_response(command, status, values):
    if status == OK:
        return RESPONSES[command].serialize(values)
    return ERROR_PAYLOADS.get(status, EMPTY).serialize(values)


# --------------------------------------------------------------------------- byte stream

class SerialPort:
    """A raw termios byte stream; every read has a deadline."""

    def __init__(self, path, flush=True):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            attrs = termios.tcgetattr(self.fd)
            # cfmakeraw: no echo, no line editing, no translation, 8 bits
            attrs[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                          | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
            attrs[1] &= ~termios.OPOST
            attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8 | termios.CLOCAL | termios.CREAD
            attrs[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
            attrs[4] = attrs[5] = termios.B115200
            attrs[6][termios.VMIN] = 0
            attrs[6][termios.VTIME] = 0
            termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
            if flush:
                termios.tcflush(self.fd, termios.TCIFLUSH)   # section 1: stale events may wait
        except Exception:
            os.close(self.fd)
            raise

    def write(self, data, deadline=None):
        deadline = time.monotonic() + 1.0 if deadline is None else deadline
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkTimeout("write did not finish in time")
            _, writable, _ = select.select([], [self.fd], [], remaining)
            if writable:
                view = view[os.write(self.fd, view):]

    def read(self, deadline):
        """Whatever bytes arrive before the deadline (b'' if none)."""
        remaining = max(0.0, deadline - time.monotonic())
        readable, _, _ = select.select([self.fd], [], [], remaining)
        if not readable:
            return b""
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return b""
        if not data:
            raise EOFError("the port hung up")
        return data

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# --------------------------------------------------------------------------- section 2

class DeviceError(Exception):
    def __init__(self, frame, details):
        super().__init__("%s answered %s %s" % (COMMAND_NAMES.get(frame.command, hex(frame.command)),
                                                status_name(frame.status), details or ""))
        self.status, self.details, self.frame = frame.status, details, frame


class ControllerClient:
    def __init__(self, port, attempt_timeout=ATTEMPT_TIMEOUT, retries=RETRIES):
        self.port = port
        self.decoder = FrameDecoder()
        self.attempt_timeout, self.retries = attempt_timeout, retries
        self.next_request_id = 1
        self.events = []            # EVENT frames seen while waiting, oldest first
        self.ignored = []           # valid frames that matched no request (late answers)
        self.attempts = 0           # frames sent, retries included
        self.backlog = []           # decoded frames not yet looked at

    def fresh_request_id(self):
        request_id = self.next_request_id
        self.next_request_id = 1 if request_id == 0xFFFF else request_id + 1
        return request_id

    def send_frame(self, frame):
        self.port.write(frame.serialize())

    def receive(self, deadline):
        """The next frame before the deadline, or None. Bytes already waiting are always
        looked at, even when the deadline has passed."""
        while not self.backlog:
            # wake up in time to apply the 100 ms gap rule to a partial frame
            wake = deadline
            if self.decoder.buffer:
                wake = min(deadline, self.decoder.last_byte_at + INCOMPLETE_FRAME_GAP + 0.001)
            data = self.port.read(wake)
            self.backlog += self.decoder.feed(data) if data else self.decoder.expire()
            if not self.backlog and time.monotonic() >= deadline:
                return None
        return self.backlog.pop(0)

    def exchange(self, command, payload=b"", timeout=None, retries=None, request_id=None,
                 version=PROTOCOL_VERSION):
        """Send one request (re-sent with RETRY on timeout) and return the response frame."""
        if timeout is None:
            timeout = MODULE_TEST_ATTEMPT_TIMEOUT if command == MODULE_TEST else self.attempt_timeout
        retries = self.retries if retries is None else retries
        request_id = self.fresh_request_id() if request_id is None else request_id
        for attempt in range(retries + 1):
            flags = FLAG_RETRY if attempt else 0
            self.send_frame(Frame(command, payload, request_id, flags, version=version))
            self.attempts += 1
            response = self.wait_for(request_id, command, time.monotonic() + timeout)
            if response is not None:
                return response
        raise LinkTimeout("%s (request %d): no response after %d attempts"
                          % (COMMAND_NAMES.get(command, hex(command)), request_id, retries + 1))

    def wait_for(self, request_id, command, deadline):
        while True:
            frame = self.receive(deadline)
            if frame is None:
                return None
            if frame.flags & FLAG_EVENT:
                self.events.append(frame)     # section 4.9: queue events, keep waiting
            elif not frame.flags & FLAG_RESPONSE:
                self.ignored.append(frame)    # our own request echoed back
            elif frame.request_id == request_id and frame.command == command:
                return frame
            else:
                self.ignored.append(frame)    # a late answer to an abandoned attempt

    def call(self, command, timeout=None, **fields):
        """Request with named fields; the parsed OK payload, or DeviceError."""
        frame = self.exchange(command, REQUESTS[command].serialize(fields), timeout=timeout)
        values = parse_response(frame)
        if frame.status != OK:
            raise DeviceError(frame, values)
        return values

    # Convenience wrappers, one per command.
    def hello(self, min_version=1, max_version=1):
        return self.call(HELLO, min_version=min_version, max_version=max_version)

    def identify(self):
        return self.call(IDENTIFY)

    def cabinet_info(self, cabinet):
        return self.call(CABINET_INFO, cabinet=cabinet)

    def get_param(self, param_id):
        return self.call(GET_PARAM, param_id=param_id)

    def set_param(self, param_id, value):
        return self.call(SET_PARAM, param_id=param_id, value=value)

    def show_pattern(self, pattern, argument=0):
        return self.call(SHOW_PATTERN, pattern=pattern, argument=argument)

    def module_test(self, cabinet):
        return self.call(MODULE_TEST, cabinet=cabinet)

    def read_telemetry(self, cabinet):
        return self.call(READ_TELEMETRY, cabinet=cabinet)

    def read_events(self, first_sequence=0, max_count=64):
        return self.call(READ_EVENTS, first_sequence=first_sequence, max_count=max_count)

    def clear_events(self):
        return self.call(CLEAR_EVENTS)

    def reboot(self):
        return self.call(REBOOT)

    def read_led_status(self, cabinet, max_bytes=1024):
        """The whole cabinet's status, chunk by chunk (4.7); advances by data received."""
        data = bytearray()
        total = None
        while total is None or len(data) < total:
            chunk = self.call(READ_LED_STATUS, cabinet=cabinet, offset=len(data), max_bytes=max_bytes)
            if chunk["offset"] != len(data) or chunk["cabinet"] != cabinet:
                raise ProtocolError("chunk for cabinet %d at %d answered for cabinet %d at %d"
                                    % (cabinet, len(data), chunk["cabinet"], chunk["offset"]))
            if total is not None and chunk["total"] != total:
                raise ProtocolError("total changed from %d to %d" % (total, chunk["total"]))
            total = chunk["total"]
            if not chunk["data"] and len(data) < total:
                raise ProtocolError("empty chunk at %d of %d" % (len(data), total))
            if len(chunk["data"]) > min(max_bytes, MAX_PAYLOAD - 10) or len(data) + len(chunk["data"]) > total:
                raise ProtocolError("chunk of %d bytes at %d (asked at most %d, total %d)"
                                    % (len(chunk["data"]), len(data), max_bytes, total))
            if any(byte & 0x80 for byte in chunk["data"]):
                raise ProtocolError("a status byte has bit 7 set")
            data += chunk["data"]
        return bytes(data)
