-- How a feedback row's score reads: `score_kind` of `llmops.feedback.submitted.v1`, 'thumbs' (-1 or 1)
-- or 'rating' (1 to 5). '' for rows stored before this column and for events that did not say; a score
-- of -1 is a thumbs-down either way, since no rating is below 1.
-- The canary analysis counts thumbs with it, so that a rating of 1 is never read as a thumbs-up.
ALTER TABLE feedback ADD COLUMN IF NOT EXISTS score_kind LowCardinality(String) DEFAULT '' AFTER score;
