"""Reading a delimited text file in bounded memory, checking every line on the way.

The file is read in blocks of whole lines (a few MiB); each block is checked (no binary bytes, valid
UTF-8, no empty line, every line with the same number of fields) and split into one string array per
field with pyarrow, so no Python object is made per value. Values are kept exactly as written: only the
line terminator is removed, nothing is trimmed or unquoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.errors import UploadFileError

# Small blocks keep the transient copies of a block (lines, fields, columns) to a few MiB.
BLOCK_BYTES = 1 << 20
MAX_LINE_BYTES = 64 << 20
UTF8_BOM = b"\xef\xbb\xbf"
# Bytes no delimited text holds: C0 controls other than tab, line feed and carriage return, and DEL.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_CR = re.compile(rb"\r(?!\n)")


class DelimitedFile:
    """One pass over a delimited text file; :meth:`batches` yields its data lines' fields.

    After the pass, :attr:`header` (the header line's fields, None without one), :attr:`width` (fields
    per line), :attr:`line_ending`, :attr:`final_newline`, :attr:`bom` and :attr:`rows` describe it.
    """

    def __init__(
        self,
        path: Path,
        *,
        delimiter: str,
        head: bool,
        block_bytes: int = BLOCK_BYTES,
        max_line_bytes: int = MAX_LINE_BYTES,
        name: str | None = None,
    ) -> None:
        self.path = path
        # How messages name the file: a spooled upload is known to its sender by its own name.
        self.name = name if name is not None else str(path)
        self.delimiter = delimiter
        self.head = head
        self.header: list[str] | None = None
        self.width: int | None = None
        self.line_ending = "\n"
        self.final_newline = True
        self.bom = False
        self.rows = 0
        self.bytes_read = 0
        self._block_bytes = block_bytes
        self._max_line_bytes = max_line_bytes
        try:
            self.total_bytes = path.stat().st_size
        except OSError as error:
            raise UploadFileError(
                f"cannot read upload file {str(path)!r}: {error.strerror}", file=str(path)
            ) from None

    @property
    def first_data_line(self) -> int:
        """The 1-based line number of the first data line."""
        return 2 if self.head else 1

    def batches(self) -> Iterator[list[pa.Array[Any]]]:
        """The data lines' fields, one string array per field, a block of lines at a time."""
        if self.total_bytes == 0:
            raise UploadFileError(
                f"upload file {self.name!r} is empty",
                hint="upload a file of delimited lines: a header line (head: 1) and data lines",
                file=self.name,
            )
        try:
            handle = self.path.open("rb")
        except OSError as error:
            raise UploadFileError(
                f"cannot read upload file {self.name!r}: {error.strerror}", file=self.name
            ) from None
        with handle:
            yield from self._blocks(handle)
        if self.width is None:
            raise UploadFileError(
                f"upload file {self.name!r} holds no lines",
                hint="upload a file of delimited lines",
                file=self.name,
            )
        if self.rows == 0:
            raise UploadFileError(
                f"upload file {self.name!r} has a header line but no data lines",
                hint="add data lines, or set head: 0 if line 1 is data",
                file=self.name,
            )

    def _blocks(self, handle: BinaryIO) -> Iterator[list[pa.Array[Any]]]:
        lines_done = 0
        carry = b""
        first = True
        while True:
            block = handle.read(self._block_bytes)
            at_eof = not block
            if first and block.startswith(UTF8_BOM):
                self.bom, block = True, block[len(UTF8_BOM) :]
                self.bytes_read += len(UTF8_BOM)
            first = False
            buffer = carry + block
            # Checked before waiting for a line break, so a binary file fails on its first block.
            binary = _BINARY.search(block)
            if binary is not None:
                self._binary(buffer, len(carry) + binary.start(), lines_done)
            if at_eof:
                complete, carry = buffer, b""
            else:
                cut = buffer.rfind(b"\n")
                if cut < 0:
                    if len(buffer) > self._max_line_bytes:
                        self._fail(
                            lines_done + 1,
                            f"is longer than {self._max_line_bytes} bytes without a line break",
                            "upload a delimited text file with one row per line",
                        )
                    carry = buffer
                    continue
                complete, carry = buffer[: cut + 1], buffer[cut + 1 :]
            if complete:
                fields = self._parse(complete, lines_done)
                lines_done += complete.count(b"\n") + (0 if complete.endswith(b"\n") else 1)
                self.bytes_read += len(complete)
                if fields is not None:
                    yield fields
            if at_eof:
                return

    def _parse(self, raw: bytes, lines_done: int) -> list[pa.Array[Any]] | None:
        lone_cr = _LONE_CR.search(raw)
        if lone_cr is not None:
            self._fail(
                _line_at(raw, lone_cr.start(), lines_done),
                "contains a carriage return (\\r) that does not end the line",
                "save the file with \\n or \\r\\n line endings",
            )
        text = self._text_array(raw, lines_done)
        if lines_done == 0:
            first_break = raw.find(b"\n")
            if first_break > 0 and raw[first_break - 1] == ord("\r"):
                self.line_ending = "\r\n"
        if b"\r" in raw:
            # Every \r here ends a line (a lone one was refused above).
            text = pc.replace_substring(text, "\r\n", "\n")
        self.final_newline = raw.endswith(b"\n")
        lines: pa.Array[Any] = pc.split_pattern(text, "\n").flatten()
        if self.final_newline:
            lines = lines.slice(0, len(lines) - 1)
        empty: pa.Array[Any] = pc.call_function("equal", [pc.call_function("binary_length", [lines]), 0])
        if pc.any(empty).as_py():
            line = lines_done + 1 + int(pc.index(empty, True).as_py())
            self._fail(line, "is empty", "remove empty lines; every line is a row (or the header)")
        data_first_line = lines_done + 1
        if lines_done == 0:
            first_line = str(lines[0].as_py())
            if self.head:
                self.header = first_line.split(self.delimiter)
                self.width = len(self.header)
                lines, data_first_line = lines.slice(1), 2
                if len(lines) == 0:
                    return None
            else:
                self.width = first_line.count(self.delimiter) + 1
        return self._columns(lines, data_first_line)

    def _text_array(self, raw: bytes, lines_done: int) -> pa.Array[Any]:
        """``raw`` as a one-element string array, without copying it, once it is known to be UTF-8."""
        offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int32).tobytes())
        text = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(raw)])
        try:
            text.validate(full=True)
        except pa.ArrowInvalid:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                line_start = raw.rfind(b"\n", 0, error.start) + 1
                self._fail(
                    _line_at(raw, error.start, lines_done),
                    f"is not UTF-8: byte 0x{raw[error.start]:02x} at byte {error.start - line_start + 1} "
                    "of the line cannot be decoded",
                    "save the file as UTF-8 text (a spreadsheet's 'CSV UTF-8')",
                )
            raise
        return text

    def _columns(self, lines: pa.Array[Any], data_first_line: int) -> list[pa.Array[Any]]:
        width = self.width
        assert width is not None
        parts = pc.split_pattern(lines, self.delimiter)
        lengths = pc.list_value_length(parts)
        ragged = pc.not_equal(lengths, pa.scalar(width, lengths.type))
        if pc.any(ragged).as_py():
            index = int(pc.index(ragged, True).as_py())
            got = lengths[index].as_py()
            against = "the header has" if self.head else "line 1 has"
            self._fail(
                data_first_line + index,
                f"has {got} fields but {against} {width}",
                f"give every line {width} fields separated by {self.delimiter!r}: is id_delimiter the "
                f"file's separator, is a value missing, or does one contain {self.delimiter!r}?",
            )
        count = len(lines)
        values: pa.Array[Any] = parts.flatten()
        starts = np.arange(count, dtype=np.int64) * width
        self.rows += count
        return [values.take(starts + column) for column in range(width)]

    def _binary(self, buffer: bytes, position: int, lines_done: int) -> NoReturn:
        self._fail(
            _line_at(buffer, position, lines_done),
            f"holds the byte 0x{buffer[position]:02x}, which delimited text never contains",
            "this looks like a binary file (compressed, a spreadsheet, UTF-16 text?): upload UTF-8 "
            "delimited text",
        )

    def _fail(self, line: int, problem: str, hint: str) -> NoReturn:
        raise UploadFileError(
            f"upload file {self.name!r}: line {line} {problem}",
            hint=hint,
            file=self.name,
            line=line,
        )


def _line_at(data: bytes, position: int, lines_done: int) -> int:
    return lines_done + data.count(b"\n", 0, position) + 1
