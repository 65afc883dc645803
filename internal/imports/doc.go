// Package imports moves CSV files in and out of the record store: uploads
// stored in the database as chunks (so any instance can read them), the
// preview of an upload with inferred column types, the import job that
// streams an upload into a new table in checkpointed batches, the export of
// a table as CSV, and the import of a CSV as suggestions matched on a key
// column.
//
// # Upload, preview, import
//
// CreateUpload streams a file into 1 MiB chunks (upload_chunks) without ever
// holding the file in memory. Preview sniffs the stored file and reads its
// first rows. StartImport creates the table with the chosen columns and
// enqueues an ImportCSVArgs job in the "imports" queue together with the
// upload's new state. RunImport, the job's body, reads the chunks in order a
// few at a time, parses them with csvimport, converts each cell to its
// column's type and writes records in batches of DefaultBatchRows rows: each
// batch streams by COPY into the unlogged import_batches table while the
// file is still being parsed, then one INSERT ... SELECT moves it into
// records with its values as both fields and original (an import is a pull
// from the file), so each row's JSON is parsed once.
// Each batch commits with a checkpoint (the file row of its last row) on the
// upload row, so a job that crashes or is retried skips the rows already
// committed: rows are deterministic from the file, and none is imported
// twice. After each batch an "import.progress" event goes to the workbook's
// viewers; "import.done" or "import.failed" and a toast end the import, and
// the chunks are deleted.
//
// # What is never lost
//
// A cell that does not convert to its column's type is stored empty, and the
// record's errors name the column with the reason; the upload counts such
// cells. A row the reader rejects (a stray quote, invalid UTF-8, too many
// cells) is counted and its error, with row and column, is kept on the
// upload (the first 100 of them) and shown on the import page.
package imports
