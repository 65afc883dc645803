-- +goose Up
-- Records of up to about 4 KB are stored as they are, in the table's own
-- pages, rather than compressed or moved out of line. PostgreSQL compresses
-- a row once it passes 2 KB (TOAST_TUPLE_THRESHOLD) until it fits in
-- toast_tuple_target, 2 KB by default: a record of twenty fields with a
-- few hundred words of body text is 2 to 4 KB of JSON, so nearly every one
-- was compressed, and half of them, still over 2 KB, moved to the TOAST
-- table. A filtered grid page then paid a TOAST lookup and a decompression
-- for every record its filter looked at (thousands for a selective filter
-- in a sort order), and every edit compressed the record again. With a
-- target of half a page those records cost nothing to read or write beyond
-- their bytes; bigger ones are still compressed (LZ4, 00009) and moved out
-- as before. The price is disk: a 1,000,000-record seeded table takes
-- 3.8 GB instead of 2.4 GB. Rows already stored keep their form until they
-- are next written.
ALTER TABLE records SET (toast_tuple_target = 4080);

-- +goose Down
ALTER TABLE records RESET (toast_tuple_target);
