#!/usr/bin/python3
"""Serves a USB device that exists only in a umockdev testbed, live.

Loads a .umockdev description (sysfs attributes and the `descriptors` blob, so libusb
enumerates the device and opens its /dev/bus/usb/BBB/DDD node), attaches a usbfs ioctl
handler written against umockdev's IoctlBase API to that node, and runs COMMAND inside
the testbed. The handler forwards each bulk OUT URB to a byte stream and completes bulk IN
URBs from it: the emulator's UNIX socket (`ledsentry-emu --socket`) or, with --echo, the
OUT bytes themselves. String descriptors (manufacturer, product, serial) come from the
description's attributes.

When the emulator's socket closes (it exited, or its unplug-after fault fired), the device
is unplugged. Signals to this process: SIGUSR1 unplugs the device (URBs in flight end with ESHUTDOWN,
further calls with ENODEV, as the kernel does), SIGUSR2 plugs it back in. The command gets
LEDSENTRY_USB_BRIDGE_PID, LEDSENTRY_USB_BRIDGE_MODE (echo | emulator) and
LEDSENTRY_USB_BRIDGE_ACCESS (granted | denied). With --deny-access the device node is made
read-only, as on a machine without the udev rule (run the command without
CAP_DAC_OVERRIDE, e.g. under `setpriv --bounding-set=-dac_override,-dac_read_search`).

usage: usb-bridge.py --device FILE.umockdev [--deny-access] (--echo | --emulator PATH [ARGS...] --) -- COMMAND...
Test code only; never part of the product.
"""
import argparse
import collections
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading

import gi
gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

# linux/usbdevice_fs.h on 64-bit Linux (checked against the header with a C program).
USBDEVFS_SUBMITURB = 0x8038550a
USBDEVFS_DISCARDURB = 0x0000550b
USBDEVFS_REAPURB = 0x4008550c
USBDEVFS_REAPURBNDELAY = 0x4008550d
USBDEVFS_CLAIMINTERFACE = 0x8004550f
USBDEVFS_RELEASEINTERFACE = 0x80045510
USBDEVFS_GETDRIVER = 0x41045508
USBDEVFS_IOCTL = 0xc0105512
USBDEVFS_CONNECTINFO = 0x40085511
USBDEVFS_SETINTERFACE = 0x80085504
USBDEVFS_SETCONFIGURATION = 0x80045505
USBDEVFS_RESET = 0x00005514
USBDEVFS_RESETEP = 0x80045503
USBDEVFS_CLEAR_HALT = 0x80045515
USBDEVFS_GET_CAPABILITIES = 0x8004551a
USBDEVFS_GET_SPEED = 0x0000551f
USBDEVFS_DISCONNECT_CLAIM = 0x8108551b

USBDEVFS_CAP_ZERO_PACKET = 0x01
USBDEVFS_CAP_BULK_CONTINUATION = 0x02
USBDEVFS_CAP_NO_PACKET_SIZE_LIM = 0x04
USBDEVFS_CAP_REAP_AFTER_DISCONNECT = 0x10

URB_TYPE_CONTROL = 2
URB_TYPE_BULK = 3
USB_SPEED_FULL = 2

# struct usbdevfs_urb: type, endpoint, status, flags, buffer, buffer_length, actual_length,
# start_frame, number_of_packets, error_count, signr, usercontext (56 bytes).
URB = struct.Struct('<BBxxiI4xQiiiiiIQ')
URB_STATUS_OFFSET = 4
URB_BUFFER_OFFSET = 16
URB_ACTUAL_LENGTH_OFFSET = 28

ENOENT, EAGAIN, ENODEV, EINVAL, EBUSY, ENOTTY, ENODATA, EPIPE, ESHUTDOWN = 2, 11, 19, 22, 16, 25, 61, 32, 108


def log(message):
    if os.environ.get('LEDSENTRY_USB_BRIDGE_DEBUG'):
        print('usb-bridge: ' + message, file=sys.stderr, flush=True)


class Urb:
    """One submitted URB: its memory in the client, resolved through umockdev."""

    def __init__(self, data):
        self.data = data
        (self.type, self.endpoint, _, _, _, self.length, _, _, _, _, _, _) = URB.unpack(bytes(data.retrieve()))
        self.buffer = data.resolve(URB_BUFFER_OFFSET, self.length)

    @property
    def is_in(self):
        return bool(self.endpoint & 0x80)

    def finish(self, status, payload=b'', offset=0, actual=None):
        """Completes it: `payload` into the buffer at `offset` (IN), the count, the status."""
        if payload:
            self.buffer.update(offset, payload)
        count = len(payload) if actual is None else actual
        self.data.update(URB_ACTUAL_LENGTH_OFFSET, struct.pack('<i', count))
        self.data.update(URB_STATUS_OFFSET, struct.pack('<i', status))


class Stream:
    """The device's byte stream: the emulator's socket, or an echo of the OUT bytes."""

    def __init__(self, socket_path, received, ended):
        self.socket_path = socket_path
        self.received = received
        self.ended = ended      # called when the far end goes away by itself
        self.sock = None

    def connect(self):
        if self.socket_path is None:
            return
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)
        threading.Thread(target=self._pump, args=(self.sock,), daemon=True).start()

    def _pump(self, sock):
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b''
            if not chunk:
                if sock is self.sock:   # not closed by us: the emulator exited or unplugged
                    self.ended()
                return
            self.received(chunk)

    def send(self, payload):
        if self.sock is None:
            self.received(payload)  # echo
        else:
            self.sock.sendall(payload)

    def close(self):
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class UsbfsDevice:
    """What the kernel's usbfs does for one device: claims, URBs, reaping, unplug."""

    def __init__(self, strings, socket_path):
        self.strings = strings
        self.lock = threading.RLock()   # echo mode receives while a submit holds it
        self.incoming = bytearray()
        self.pending_in = collections.deque()
        self.reapable = collections.defaultdict(collections.deque)   # client -> URBs done
        self.claims = {}                                              # interface -> client
        self.plugged = True
        self.stream = Stream(socket_path, self._received, self.unplug)
        self.stream.connect()

    def _received(self, chunk):
        with self.lock:
            self.incoming += chunk

    def unplug(self):
        with self.lock:
            self.plugged = False
            for client, urb in self.pending_in:
                urb.finish(-ESHUTDOWN)
                self.reapable[client].append(urb)
            self.pending_in.clear()
            self.claims.clear()
        self.stream.close()
        log('unplugged')

    def plug(self):
        with self.lock:
            self.incoming.clear()
            self.plugged = True
        self.stream.connect()
        log('plugged in')

    def client_vanished(self, client):
        with self.lock:
            for interface in [i for i, c in self.claims.items() if c is client]:
                del self.claims[interface]
            self.pending_in = collections.deque((c, u) for c, u in self.pending_in if c is not client)
            self.reapable.pop(client, None)

    def handle_ioctl(self, client):
        request = client.get_request()
        size = (request >> 16) & 0x3fff
        arg = client.get_arg()
        with self.lock:
            result = self._dispatch(client, request, arg, size)
        res, err = result
        client.complete(res, err)
        return True

    def _dispatch(self, client, request, arg, size):
        if request == USBDEVFS_GET_CAPABILITIES:
            arg.resolve(0, size).update(0, struct.pack('<I', USBDEVFS_CAP_ZERO_PACKET
                                                      | USBDEVFS_CAP_BULK_CONTINUATION
                                                      | USBDEVFS_CAP_NO_PACKET_SIZE_LIM
                                                      | USBDEVFS_CAP_REAP_AFTER_DISCONNECT))
            return 0, 0
        if request == USBDEVFS_GET_SPEED:
            return USB_SPEED_FULL, 0
        if request in (USBDEVFS_REAPURB, USBDEVFS_REAPURBNDELAY):
            return self._reap(client, arg.resolve(0, size))
        if not self.plugged:
            return -1, ENODEV
        if request == USBDEVFS_SUBMITURB:
            return self._submit(client, Urb(arg.resolve(0, size)))
        if request == USBDEVFS_DISCARDURB:
            address = struct.unpack('<Q', bytes(arg.retrieve())[:8])[0]
            for index, (owner, urb) in enumerate(self.pending_in):
                if owner is client and urb.data.client_addr == address:
                    del self.pending_in[index]
                    urb.finish(-ENOENT)
                    self.reapable[client].append(urb)
                    return 0, 0
            return -1, EINVAL
        if request == USBDEVFS_CLAIMINTERFACE:
            interface = struct.unpack('<I', bytes(arg.resolve(0, size).retrieve()))[0]
            holder = self.claims.get(interface)
            if holder is not None and holder is not client:
                return -1, EBUSY
            self.claims[interface] = client
            return 0, 0
        if request == USBDEVFS_RELEASEINTERFACE:
            interface = struct.unpack('<I', bytes(arg.resolve(0, size).retrieve()))[0]
            if self.claims.get(interface) is not client:
                return -1, EINVAL
            del self.claims[interface]
            return 0, 0
        if request in (USBDEVFS_GETDRIVER, USBDEVFS_IOCTL):
            return -1, ENODATA          # no kernel driver bound to the interface
        if request == USBDEVFS_CONNECTINFO:
            arg.resolve(0, size).update(0, struct.pack('<IB3x', 7, 0))
            return 0, 0
        if request in (USBDEVFS_SETINTERFACE, USBDEVFS_SETCONFIGURATION, USBDEVFS_RESET,
                       USBDEVFS_RESETEP, USBDEVFS_CLEAR_HALT):
            return 0, 0
        log('unhandled ioctl 0x%08x' % request)
        return -1, ENOTTY

    def _submit(self, client, urb):
        if urb.type == URB_TYPE_CONTROL:
            status, reply = self._control(bytes(urb.buffer.retrieve()))
            urb.finish(status, reply, offset=8)   # the data stage follows the 8-byte setup
        elif urb.type == URB_TYPE_BULK and urb.is_in:
            self.pending_in.append((client, urb))
            return 0, 0
        elif urb.type == URB_TYPE_BULK:
            payload = bytes(urb.buffer.retrieve())
            log('OUT %s' % payload.hex())
            try:
                self.stream.send(payload)
            except OSError:
                return -1, ENODEV
            urb.finish(0, actual=len(payload))
        else:
            return -1, EINVAL
        self.reapable[client].append(urb)
        return 0, 0

    def _reap(self, client, pointer):
        done = self.reapable[client]
        if not done:
            self._fill_pending_in(client)
        if done:
            pointer.set_ptr(0, done.popleft().data)
            return 0, 0
        return (-1, EAGAIN) if self.plugged else (-1, ENODEV)

    def _fill_pending_in(self, client):
        """A bulk IN URB completes as soon as bytes are there (as after a short packet)."""
        for index, (owner, urb) in enumerate(self.pending_in):
            if owner is client and self.incoming:
                payload = bytes(self.incoming[:urb.length])
                del self.incoming[:len(payload)]
                del self.pending_in[index]
                log('IN %s' % payload.hex())
                urb.finish(0, payload)
                self.reapable[client].append(urb)
                return

    def _control(self, setup):
        """Standard GET_DESCRIPTOR for strings; everything else stalls."""
        request_type, request, value, index, length = struct.unpack('<BBHHH', setup[:8])
        if request_type == 0x80 and request == 6 and value >> 8 == 3:
            number = value & 0xff
            if number == 0:
                body = struct.pack('<H', 0x0409)
            elif number in self.strings:
                body = self.strings[number].encode('utf-16-le')
            else:
                return -EPIPE, b''
            descriptor = bytes([2 + len(body), 3]) + body
            return 0, descriptor[:length]
        return -EPIPE, b''


def device_attributes(path):
    """The first device's node and A: attributes in a .umockdev file."""
    node, attributes = None, {}
    with open(path) as description:
        for line in description:
            line = line.rstrip('\n')
            if not line:
                break
            kind, _, rest = line.partition(': ')
            if kind == 'N':
                node = '/dev/' + rest
            elif kind == 'A':
                key, _, value = rest.partition('=')
                attributes[key] = value
    return node, attributes


def start_emulator(command, directory):
    socket_path = os.path.join(directory, 'emulator.sock')
    emulator = subprocess.Popen(command + ['--socket', socket_path], stdout=subprocess.PIPE, text=True)
    line = emulator.stdout.readline().strip()
    if not line.startswith('socket: '):
        emulator.kill()
        sys.exit('usb-bridge: emulator did not start (printed %r)' % line)
    return emulator, line[len('socket: '):]


def main():
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit(__doc__)
    split = len(argv) - 1 - argv[::-1].index('--')
    options, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(description='serve a umockdev USB device live')
    parser.add_argument('--device', required=True)
    parser.add_argument('--echo', action='store_true')
    parser.add_argument('--deny-access', action='store_true')
    parser.add_argument('--emulator', nargs=argparse.REMAINDER)
    args = parser.parse_args(options)
    if args.echo == bool(args.emulator):
        sys.exit('usb-bridge: give exactly one of --echo and --emulator PATH')

    node, attributes = device_attributes(args.device)
    strings = {1: attributes.get('manufacturer', ''), 2: attributes.get('product', ''),
               3: attributes.get('serial', '')}
    workdir = tempfile.mkdtemp(prefix='usb-bridge-')
    emulator, socket_path = (None, None)
    if args.emulator:
        emulator, socket_path = start_emulator(args.emulator, workdir)

    testbed = UMockdev.Testbed.new()
    testbed.add_from_file(args.device)
    device = UsbfsDevice(strings, socket_path)
    handler = UMockdev.IoctlBase()
    handler.connect('handle-ioctl', lambda _, client: device.handle_ioctl(client))
    handler.connect('client-vanished', lambda _, client: device.client_vanished(client))
    testbed.attach_ioctl(node, handler)
    if args.deny_access:
        os.chmod(testbed.get_root_dir() + node, 0o444)   # libusb needs write access
    signal.signal(signal.SIGUSR1, lambda *_: device.unplug())
    signal.signal(signal.SIGUSR2, lambda *_: device.plug())

    env = dict(os.environ)
    env['UMOCKDEV_DIR'] = testbed.get_root_dir()
    env['LD_PRELOAD'] = ':'.join(p for p in [env.get('LD_PRELOAD'), 'libumockdev-preload.so.0'] if p)
    env['LEDSENTRY_USB_BRIDGE_PID'] = str(os.getpid())
    env['LEDSENTRY_USB_BRIDGE_MODE'] = 'echo' if args.echo else 'emulator'
    env['LEDSENTRY_USB_BRIDGE_ACCESS'] = 'denied' if args.deny_access else 'granted'
    child = subprocess.Popen(command, env=env)
    while True:
        try:
            status = child.wait()
            break
        except KeyboardInterrupt:
            child.terminate()
    if emulator is not None:
        emulator.terminate()
        emulator.wait()
    testbed.detach_ioctl(node)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == '__main__':
    main()
