package neo4jstore

import (
	"context"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"quanzi/community"
)

// identitiesIn reads identities projected as {provider, externalId}.
func identitiesIn(v any) []community.Identity {
	rows, _ := v.([]any)
	out := make([]community.Identity, 0, len(rows))
	for _, row := range rows {
		p, _ := row.(map[string]any)
		out = append(out, community.Identity{Provider: community.IdentityProvider(str(p["provider"])), ExternalID: str(p["externalId"])})
	}
	return out
}

// RedeemInvite implements community.AttributionStore: one write transaction that locks
// (cypherLockRedemption), reads the facts, asks check, and writes.
func (s *Store) RedeemInvite(ctx context.Context, r community.Redemption, check func(community.Redemption, community.RedemptionFacts) error) (community.Referral, error) {
	params := map[string]any{"memberId": r.MemberID, "code": r.Code, "at": r.At.UTC(), "since": r.BurstSince().UTC()}
	ref, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (community.Referral, error) {
		if _, err := collect(ctx, tx, cypherLockRedemption, params); err != nil {
			return community.Referral{}, err
		}
		recs, err := collect(ctx, tx, cypherRedemptionFacts, params)
		if err != nil {
			return community.Referral{}, err
		}
		if len(recs) == 0 {
			return community.Referral{}, notFound(r.MemberID)
		}
		rec := recs[0]
		f := community.RedemptionFacts{
			JoinedAt: utc(get(rec, "joinedAt")), MemberIdentities: identitiesIn(get(rec, "mine")),
			ReferrerIdentities: identitiesIn(get(rec, "theirs")), Referred: boolean(get(rec, "referred")),
			InUpline: boolean(get(rec, "inUpline")), MemberDevices: strs(get(rec, "myDevices")),
			ReferrerDevices: strs(get(rec, "theirDevices")), RecentReferrals: integer(get(rec, "recent")),
		}
		if v := get(rec, "invite"); v != nil {
			inv := inviteFrom(v)
			f.Invite = &inv
		}
		if v := get(rec, "campaign"); v != nil {
			c, err := campaignFrom(v)
			if err != nil {
				return community.Referral{}, err
			}
			f.Campaign = &c
		}
		if err := check(r, f); err != nil {
			return community.Referral{}, err
		}
		flags := community.FlagReferral(r, f)
		args := map[string]any{"flags": flagStrings(flags), "devices": nil}
		if r.Device != "" {
			args["devices"] = community.KeepDevice(f.MemberDevices, r.Device)
		}
		args["inKey"] = listKey(f.Invite.MemberID, r.At, r.MemberID)
		for k, v := range params {
			args[k] = v
		}
		recs, err = collect(ctx, tx, cypherRedeem, args)
		if err != nil {
			return community.Referral{}, err
		}
		if len(recs) == 0 {
			return community.Referral{}, community.Errorf(community.CodeInternal, "the redemption's invite or members went missing under their locks")
		}
		if err := countReferral(ctx, tx, r.MemberID); err != nil {
			return community.Referral{}, err
		}
		return community.Referral{
			MemberID: r.MemberID, ReferrerID: str(get(recs[0], "referrerId")), Code: r.Code,
			CampaignID: str(get(recs[0], "campaignId")), Channel: community.ShareChannel(str(get(recs[0], "channel"))), At: r.At.UTC(),
			Flags: flags,
		}, nil
	})
	if err != nil {
		return community.Referral{}, fail(err, "redeem invite %q for member %q", r.Code, r.MemberID)
	}
	return ref, nil
}

// ReferralsOf implements community.AttributionStore.
func (s *Store) ReferralsOf(ctx context.Context, memberIDs []string) (map[string]community.Referral, error) {
	return batch(ctx, s, cypherReferralsOf, memberIDs, nil, "referrals", func(r *neo4j.Record) (string, community.Referral) {
		return str(get(r, "id")), community.Referral{
			MemberID: str(get(r, "id")), ReferrerID: str(get(r, "referrerId")), Code: str(get(r, "code")),
			CampaignID: str(get(r, "campaignId")), Channel: community.ShareChannel(str(get(r, "channel"))), At: utc(get(r, "at")),
			Flags: flagsIn(get(r, "flags")),
		}
	})
}

// flagStrings is flags as a statement takes them: a list of strings, empty for none.
func flagStrings(flags []community.ReferralFlag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

// flagsIn reads a list of flags; nil for none.
func flagsIn(v any) []community.ReferralFlag {
	var out []community.ReferralFlag
	for _, f := range strs(v) {
		out = append(out, community.ReferralFlag(f))
	}
	return out
}

// strs reads a list of strings; nil for an empty list or none.
func strs(v any) []string {
	rows, _ := v.([]any)
	var out []string
	for _, row := range rows {
		out = append(out, str(row))
	}
	return out
}

// SeenOnDevice implements community.AttributionStore: it locks the member, reads its
// device hashes and writes KeepDevice of them, in one transaction.
func (s *Store) SeenOnDevice(ctx context.Context, memberID, hash string) error {
	_, err := write(ctx, s, func(tx neo4j.ManagedTransaction) (struct{}, error) {
		recs, err := collect(ctx, tx, cypherLockDevices, map[string]any{"id": memberID})
		if err != nil {
			return struct{}{}, err
		}
		if len(recs) == 0 {
			return struct{}{}, notFound(memberID)
		}
		kept := community.KeepDevice(strs(get(recs[0], "devices")), hash)
		return struct{}{}, exec(ctx, tx, cypherKeepDevices, map[string]any{"id": memberID, "devices": kept})
	})
	if err != nil {
		return fail(err, "keep a device of member %q", memberID)
	}
	return nil
}

// DevicesOf implements community.AttributionStore.
func (s *Store) DevicesOf(ctx context.Context, memberIDs []string) (map[string][]string, error) {
	return batch(ctx, s, cypherDevicesOf, memberIDs, nil, "devices", func(r *neo4j.Record) (string, []string) {
		return str(get(r, "id")), strs(get(r, "devices"))
	})
}

// UplinesOf implements community.AttributionStore. An upline is read to
// community.MaxChainDepth at most.
func (s *Store) UplinesOf(ctx context.Context, memberIDs []string, maxDepth int) (map[string][]string, error) {
	params := map[string]any{"maxDepth": int64(min(maxDepth, community.MaxChainDepth))}
	return batch(ctx, s, cypherUplines, memberIDs, params, "uplines", func(r *neo4j.Record) (string, []string) {
		rows, _ := get(r, "upline").([]any)
		up := make([]string, len(rows))
		for i, v := range rows {
			up[i] = str(v)
		}
		return str(get(r, "id")), up
	})
}
