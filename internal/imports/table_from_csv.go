package imports

import (
	"context"
	"io"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// CreateTableFromCSV adds a table to one of the owner's workbooks from a CSV
// file in one step, as the API offers it: the file read from r (at most
// maxBytes; 0 means no limit) is stored as an upload, its columns and types
// are inferred, and the job that fills the table is started. in names the
// table (the file's name without its extension when empty) and the
// optional key column; when in.Columns is empty every column of the file
// is imported with its inferred type.
//
// If a step after the upload fails, the upload and its chunks are removed,
// so nothing is left for the preview page or the purge to find.
// Errors: NotFound (the workbook), TooLarge, Invalid (an empty or
// unreadable file, a bad table name or key column).
func (s *Service) CreateTableFromCSV(ctx context.Context, ownerID, workbookID, filename string, r io.Reader, maxBytes int64, in ImportInput) (Upload, workbooks.Table, error) {
	up, err := s.CreateUpload(ctx, ownerID, workbookID, filename, r, maxBytes)
	if err != nil {
		return Upload{}, workbooks.Table{}, err
	}
	started, t, err := s.importNewUpload(ctx, up, in)
	if err != nil {
		if derr := s.q.DeleteUpload(context.WithoutCancel(ctx), up.ID); derr != nil {
			s.logger.WarnContext(ctx, "imports: delete upload of a failed table from CSV", "upload", up.ID, "err", derr)
		}
		return Upload{}, workbooks.Table{}, err
	}
	return started, t, nil
}

// importNewUpload previews a fresh upload and starts its import.
func (s *Service) importNewUpload(ctx context.Context, up Upload, in ImportInput) (Upload, workbooks.Table, error) {
	if len(in.Columns) == 0 {
		p, err := s.Preview(ctx, up.OwnerID, up.WorkbookID, up.ID)
		if err != nil {
			return Upload{}, workbooks.Table{}, err
		}
		if p.FileError != "" {
			return Upload{}, workbooks.Table{}, apperr.InvalidFields(p.FileError, apperr.FieldError{Field: "file", Message: p.FileError})
		}
		in.Columns = DefaultChoices(p)
	}
	return s.StartImport(ctx, up.OwnerID, up.WorkbookID, up.ID, in)
}
