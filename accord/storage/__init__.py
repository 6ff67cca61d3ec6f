"""Accord's tables: uploads from delimited text files, component outputs, downloads back to text.

Rows live in Parquet under ``<settings.home>/tables/<namespace>/<name>/``; each table's count, schema
and address live in SQL (:class:`~accord.persistence.TableMetaRepository`). Components read tables
with :meth:`TableStore.read` or :meth:`TableStore.iter_batches` and write theirs with
:meth:`TableStore.write`.
"""

from accord.storage.conf import UploadConf
from accord.storage.model import ENGINE, RawTable, TableInfo, TextLayout, UploadProgress
from accord.storage.store import TableStore

__all__ = ["ENGINE", "RawTable", "TableInfo", "TableStore", "TextLayout", "UploadConf", "UploadProgress"]
