package csvimport

import (
	"bytes"
	"errors"
	"io"
	"math"
)

// SniffBytes is how much of a file Sniff reads to guess its delimiter.
const SniffBytes = 64 << 10

// sniffRecords is how many records of the prefix Sniff compares.
const sniffRecords = 200

// delimiters are the cell delimiters Sniff chooses among, in order of
// preference when they fit a file equally well.
var delimiters = []rune{',', ';', '\t'}

// Sniffed is what Sniff found out about a file.
type Sniffed struct {
	// Delimiter is the cell delimiter, one of ",", ";" and tab; ',' when no
	// delimiter fits better, as for a file with a single column.
	Delimiter rune
	// Header is the header row, normalized as Reader.Header returns it.
	Header []string
	// BOM reports whether the file started with a UTF-8 byte order mark,
	// which the returned reader leaves out.
	BOM bool
}

// Sniff reads up to SniffBytes of r and guesses how the file is written. It
// returns a reader that replays what it read (without any byte order mark)
// followed by the rest of r, to be passed to NewReader with the Delimiter
// found. The delimiter chosen is the one under which the rows of the prefix
// most consistently have the same number of cells (quotes taken into
// account), preferring more cells, then comma, semicolon and tab in that order.
//
// It returns ErrEmpty, ErrUTF16, ErrSpreadsheet, ErrNotText,
// ErrHeaderTooLong or a *FormatError (a compressed file, an archive, a PDF)
// for files it cannot read, a *CellError or *RowError for a
// malformed header, and read errors from r.
func Sniff(r io.Reader) (Sniffed, io.Reader, error) {
	buf := make([]byte, SniffBytes)
	n, err := io.ReadFull(r, buf)
	complete := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !complete {
		return Sniffed{}, nil, err
	}
	buf = buf[:n]
	if err := checkFormat(buf); err != nil {
		return Sniffed{}, nil, err
	}
	if hasUTF16BOM(buf) {
		return Sniffed{}, nil, ErrUTF16
	}
	var s Sniffed
	if bytes.HasPrefix(buf, bomUTF8) {
		s.BOM = true
		buf = buf[len(bomUTF8):]
	}
	if err := checkText(buf); err != nil {
		return Sniffed{}, nil, err
	}
	s.Delimiter = guessDelimiter(buf, complete)

	if !complete && !headerEnds(buf, byte(s.Delimiter)) {
		return Sniffed{}, nil, ErrHeaderTooLong
	}
	rd, err := NewReader(bytes.NewReader(buf), Options{Delimiter: s.Delimiter})
	if err != nil {
		return Sniffed{}, nil, err
	}
	s.Header = rd.Header()

	var replay io.Reader = bytes.NewReader(buf)
	if !complete {
		replay = io.MultiReader(replay, r)
	}
	return s, replay, nil
}

// headerEnds reports whether the first record of an incomplete prefix ends
// within it, rather than being cut off at its end.
func headerEnds(prefix []byte, d byte) bool {
	p := newParser(bytes.NewReader(prefix), d, math.MaxInt, math.MaxInt, math.MaxInt)
	for {
		rec, err := p.readRecord()
		switch {
		case err != nil:
			return false
		case rec.blank:
			continue
		case p.offset() < int64(len(prefix)):
			return true
		}
		last := prefix[len(prefix)-1]
		return rec.prob.kind == probNone && (last == '\n' || last == '\r')
	}
}

// decompressAdvice is what to do with a compressed file.
const decompressAdvice = "decompress it and upload the CSV file it holds"

// extractAdvice is what to do with an archive.
const extractAdvice = "extract it and upload the CSV file inside"

// formats are the binary formats recognized by their first bytes (their
// "magic numbers"), checked before the text heuristics, which would take
// compressed bytes for UTF-16 or some other binary. ZIP is checked apart, as
// spreadsheet workbooks are ZIP files too.
var formats = []struct {
	magic string
	err   *FormatError
}{
	{"\x1F\x8B\x08", &FormatError{Format: "compressed with gzip", Advice: decompressAdvice + " (gunzip, or open it with your archive tool)", Kind: ErrCompressed}},
	{"\xFD7zXZ\x00", &FormatError{Format: "compressed with xz", Advice: decompressAdvice, Kind: ErrCompressed}},
	{"\x28\xB5\x2F\xFD", &FormatError{Format: "compressed with Zstandard", Advice: decompressAdvice, Kind: ErrCompressed}},
	{"7z\xBC\xAF\x27\x1C", &FormatError{Format: "a 7-Zip archive", Advice: extractAdvice, Kind: ErrCompressed}},
	{"%PDF-", &FormatError{Format: "a PDF document", Advice: "export the data as CSV (UTF-8) from where it came from and upload that", Kind: ErrNotText}},
}

// bzip2 is a bzip2 file: "BZh", a block size digit, then the magic of a
// block or of the end of the stream.
var bzip2 = &FormatError{Format: "compressed with bzip2", Advice: decompressAdvice, Kind: ErrCompressed}

func isBzip2(b []byte) bool {
	return len(b) >= 10 && string(b[:3]) == "BZh" && '1' <= b[3] && b[3] <= '9' &&
		(string(b[4:10]) == "1AY&SY" || string(b[4:10]) == "\x17rE8P\x90")
}

// zipArchive is a ZIP file that is not a spreadsheet workbook.
var zipArchive = &FormatError{Format: "a ZIP archive", Advice: extractAdvice, Kind: ErrCompressed}

// checkFormat recognizes compressed files, archives, spreadsheet workbooks
// and PDFs by their first bytes.
func checkFormat(b []byte) error {
	for _, f := range formats {
		if bytes.HasPrefix(b, []byte(f.magic)) {
			return f.err
		}
	}
	switch {
	case isBzip2(b):
		return bzip2
	case bytes.HasPrefix(b, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return ErrSpreadsheet // an Excel 97–2003 workbook
	case bytes.HasPrefix(b, []byte("PK\x03\x04")), bytes.HasPrefix(b, []byte("PK\x05\x06")):
		// An .xlsx names its parts [Content_Types].xml and xl/…, an .ods
		// its mimetype; the names of the first entries are in the clear.
		for _, part := range []string{"[Content_Types].xml", "xl/", "opendocument.spreadsheet"} {
			if bytes.Contains(b, []byte(part)) {
				return ErrSpreadsheet
			}
		}
		return zipArchive
	}
	return nil
}

// checkText rejects files that are plainly not UTF-8 text: UTF-16 without a
// byte order mark and binary files.
func checkText(b []byte) error {
	head := b[:min(len(b), 1024)]
	var zeros [2]int
	for i, c := range head {
		if c == 0 {
			zeros[i%2]++
		}
	}
	switch {
	case zeros[0]+zeros[1] == 0:
		return nil
	case len(head) >= 4 && max(zeros[0], zeros[1]) >= len(head)/3:
		// ASCII text in UTF-16 has a NUL in every other byte.
		return ErrUTF16
	default:
		return ErrNotText
	}
}

// guessDelimiter picks the delimiter under which the records of the prefix
// most consistently have the same number of cells, two or more.
func guessDelimiter(prefix []byte, complete bool) rune {
	best, bestScore, bestCells := delimiters[0], -1.0, 0
	for _, d := range delimiters {
		score, cells := consistency(prefix, byte(d), complete)
		if cells < 2 {
			continue
		}
		if score > bestScore+1e-9 || (math.Abs(score-bestScore) <= 1e-9 && cells > bestCells) {
			best, bestScore, bestCells = d, score, cells
		}
	}
	return best
}

// consistency splits the prefix with delimiter d and returns the most common
// number of cells per record and the share of records that have it. Records
// with syntax problems count against the delimiter; the last record of an
// incomplete prefix, which may be cut short, is left out.
func consistency(prefix []byte, d byte, complete bool) (share float64, cells int) {
	p := newParser(bytes.NewReader(prefix), d, math.MaxInt, math.MaxInt, math.MaxInt)
	var counts []int
	for len(counts) < sniffRecords+1 {
		rec, err := p.readRecord()
		if err != nil {
			break
		}
		if rec.blank {
			continue
		}
		if rec.prob.kind != probNone {
			counts = append(counts, -1)
			continue
		}
		counts = append(counts, rec.fields)
	}
	if !complete && len(counts) > 1 {
		counts = counts[:len(counts)-1]
	}
	if len(counts) == 0 {
		return 0, 0
	}
	freq := make(map[int]int)
	for _, c := range counts {
		if c > 0 {
			freq[c]++
		}
	}
	mode, modeFreq := 0, 0
	for c, f := range freq {
		if f > modeFreq || (f == modeFreq && c > mode) {
			mode, modeFreq = c, f
		}
	}
	return float64(modeFreq) / float64(len(counts)), mode
}
