package workbooks

// AppendJSONBText is appendJSONBText, for the tests.
var AppendJSONBText = appendJSONBText
