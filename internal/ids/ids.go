// Package ids checks the textual form of the identifiers Scratchpad hands
// out, so that services can answer "not found" for a malformed id without a
// database round trip (and without a cast error from PostgreSQL).
package ids

// ValidUUID reports whether s has the textual form of a UUID: 36
// characters, hexadecimal digits of either case in groups of 8-4-4-4-12
// separated by hyphens. It checks the form only, not the version or variant,
// as PostgreSQL's uuid type does not either.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
