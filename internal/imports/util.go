package imports

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

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

// ByteSize formats a size for messages and pages: "2 GiB", "1.5 MiB", "300 bytes".
func ByteSize(n int64) string {
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
