// A brand's referral campaigns in list order: listKey is the brand's id, the time the
// campaign was created (newest first) and the campaign's id (see listKey), and a page of
// the brand's campaigns is a seek of the brand's range of this index.
CREATE INDEX campaign_list_key IF NOT EXISTS FOR (c:Campaign) ON (c.listKey)
