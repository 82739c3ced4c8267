-- Dead letters keep a bounded prefix of the raw message (DEAD_LETTER_MAX_BYTES, 64 KiB by
-- default) so that one huge message cannot bloat the table or the batch transaction; the size
-- the message had as sent is kept beside it. NULL for rows written before this column existed.
ALTER TABLE dead_letter_events ADD COLUMN raw_size BIGINT CHECK (raw_size >= 0);
