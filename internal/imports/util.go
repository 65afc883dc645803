package imports

import (
	"errors"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// looksLikeUUID reports whether s has the textual form of a UUID, so that
// malformed ids are not found without asking the database.
func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

// cleanFilename keeps the base name of an uploaded file's name, on one line,
// valid UTF-8 and of bounded length; it is only ever shown, escaped.
func cleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	for len(name) > maxFilenameLength {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == "/" {
		return "upload.csv"
	}
	return name
}

// TableNameFromFilename suggests a table name for a file: its base name
// without the extension.
func TableNameFromFilename(name string) string {
	base := strings.TrimSuffix(name, path.Ext(name))
	if base = strings.TrimSpace(base); base == "" {
		return "Imported table"
	}
	return base
}

// isBodyTooLarge reports whether a read failed because the request body
// passed its limit (net/http's MaxBytesReader or Echo's BodyLimit).
func isBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || strings.Contains(strings.ToLower(err.Error()), "too large")
}

// byteSize formats a size for messages: "2 GiB", "1.5 MiB", "300 bytes".
func byteSize(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + units[i]
}
