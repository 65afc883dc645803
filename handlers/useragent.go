package handlers

import (
	"strings"
	"unicode/utf8"
)

// maxDeviceLen bounds the description of a user agent that names no
// browser this file knows.
const maxDeviceLen = 60

// describeUserAgent shortens a User-Agent header to what a person
// recognises in their list of sessions, such as "Firefox 128 on Linux";
// one that names no browser known here is cut to its first characters.
func describeUserAgent(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return "Unknown browser"
	}
	browser, os := browserOf(ua), osOf(ua)
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	}
	if utf8.RuneCountInString(ua) <= maxDeviceLen {
		return ua
	}
	return string([]rune(ua)[:maxDeviceLen]) + "…"
}

// browsers maps the product token that identifies a browser to its name.
// Order matters: Edge and Opera also claim to be Chrome, and every
// Chromium browser claims to be Safari.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari's own version; its Safari/ token is WebKit's
}

// browserOf returns the browser and its major version, or "".
func browserOf(ua string) string {
	for _, b := range browsers {
		_, rest, ok := strings.Cut(ua, b.token)
		if !ok || b.name == "Safari" && !strings.Contains(ua, "Safari/") {
			continue
		}
		digits := 0
		for digits < len(rest) && '0' <= rest[digits] && rest[digits] <= '9' {
			digits++
		}
		if digits == 0 {
			return b.name
		}
		return b.name + " " + rest[:digits]
	}
	return ""
}

// systems maps what a user agent says about its operating system to the
// system's name; phones come before the desktop systems they mention
// (Android says Linux, iOS says "like Mac OS X").
var systems = []struct{ token, name string }{
	{"iPhone", "iOS"},
	{"iPad", "iPadOS"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"},
	{"Linux", "Linux"},
}

// osOf returns the operating system, or "".
func osOf(ua string) string {
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			return s.name
		}
	}
	return ""
}
