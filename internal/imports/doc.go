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
// column's type and writes records in batches of DefaultBatchRows rows. A
// goroutine reads, converts and encodes the rows a few blocks ahead of a
// binary COPY straight into records, so parsing the file and writing rows
// run side by side. An import is a pull from the file: its records are clean
// and store no original, which for a record not created here means "nothing
// changed since the pull" (sp_original; each edit records only the values it
// replaces), so each row's JSON is written once. The import names its records with
// time-ordered UUIDs, which lets COPY insert a page of rows at a time.
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
