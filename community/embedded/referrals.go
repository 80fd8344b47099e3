package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Bucket names of the referral part of the bbolt file.
var (
	// bucketCampaigns maps a campaign id to its community.ReferralCampaign.
	bucketCampaigns = []byte("referral_campaigns")
	// bucketInvites maps an invitation code to its community.Invite.
	bucketInvites = []byte("invites")
	// bucketReferrals maps a member id to the member's community.Referral.
	bucketReferrals = []byte("referrals")
)

// referralBuckets are the buckets migrate creates for the referral part.
var referralBuckets = [][]byte{bucketCampaigns, bucketInvites, bucketReferrals}

// referralGraph is the in-memory part of the store about referral campaigns. It is
// guarded by Store.mu, like the rest of the graph.
type referralGraph struct {
	campaigns map[string]*community.ReferralCampaign
	// campaignsOf are each brand's campaigns oldest first (CreatedAt ascending, then id
	// descending): the reverse of list order, so that a new campaign is usually an append.
	campaignsOf map[string][]*community.ReferralCampaign
	// invites are the invitation codes by code; invitesOf each member's invites of each
	// campaign, oldest first.
	invites   map[string]*community.Invite
	invitesOf map[inviterKey][]*community.Invite
	// referredBy is each referred member's referral, by the member's id.
	referredBy map[string]*community.Referral
	// arrivals are the times of each referrer's referrals of each campaign, ascending:
	// what a burst is counted in.
	arrivals map[inviterKey][]time.Time
	rankingIndex
}

// inviterKey is a member and a campaign, whose invites a member has.
type inviterKey struct{ memberID, campaignID string }

func newReferralGraph() referralGraph {
	return referralGraph{
		campaigns:   map[string]*community.ReferralCampaign{},
		campaignsOf: map[string][]*community.ReferralCampaign{},
		invites:     map[string]*community.Invite{},
		invitesOf:   map[inviterKey][]*community.Invite{},
		referredBy:  map[string]*community.Referral{},
		arrivals:    map[inviterKey][]time.Time{},

		rankingIndex: newRankingIndex(),
	}
}

// compareCampaigns orders campaigns as a brand's list keeps them: oldest first, then by id
// descending.
func compareCampaigns(a, b *community.ReferralCampaign) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return -strings.Compare(a.ID, b.ID)
}

// publicCampaign returns a copy of a campaign that shares no memory with the store.
func publicCampaign(c *community.ReferralCampaign) community.ReferralCampaign {
	out := *c
	out.Rules = slices.Clone(c.Rules)
	return out
}

// loadReferrals reads the referral part of the file into memory; the brands are loaded
// already.
func (s *Store) loadReferrals(tx *bolt.Tx) error {
	err := tx.Bucket(bucketCampaigns).ForEach(func(k, v []byte) error {
		c := &community.ReferralCampaign{}
		if err := json.Unmarshal(v, c); err != nil {
			return fmt.Errorf("embedded: decode campaign: %w", err)
		}
		if s.brands[c.BrandID] == nil {
			return fmt.Errorf("embedded: campaign %q refers to an unknown brand", k)
		}
		s.campaigns[c.ID] = c
		s.campaignsOf[c.BrandID] = append(s.campaignsOf[c.BrandID], c)
		return nil
	})
	if err != nil {
		return err
	}
	for _, list := range s.campaignsOf {
		slices.SortFunc(list, compareCampaigns)
	}
	err = tx.Bucket(bucketInvites).ForEach(func(k, v []byte) error {
		inv := &community.Invite{}
		if err := json.Unmarshal(v, inv); err != nil {
			return fmt.Errorf("embedded: decode invite: %w", err)
		}
		if s.campaigns[inv.CampaignID] == nil || s.members[inv.MemberID] == nil {
			return fmt.Errorf("embedded: invite %q refers to an unknown campaign or member", k)
		}
		s.indexInvite(inv)
		return nil
	})
	if err != nil {
		return err
	}
	for _, list := range s.invitesOf {
		slices.SortFunc(list, func(a, b *community.Invite) int { return a.CreatedAt.Compare(b.CreatedAt) })
	}
	err = tx.Bucket(bucketReferrals).ForEach(func(k, v []byte) error {
		r := &community.Referral{}
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("embedded: decode referral: %w", err)
		}
		if s.members[r.MemberID] == nil || s.members[r.ReferrerID] == nil {
			return fmt.Errorf("embedded: referral of %q refers to an unknown member", k)
		}
		s.referredBy[r.MemberID] = r
		s.arrive(r)
		return nil
	})
	if err != nil {
		return err
	}
	s.countDownlines()
	s.indexAllRanked()
	return nil
}

// arrive counts a referral in its referrer's arrivals.
func (s *Store) arrive(r *community.Referral) {
	k := inviterKey{r.ReferrerID, r.CampaignID}
	s.arrivals[k] = insertSorted(s.arrivals[k], r.At, time.Time.Compare)
}

// arrivedSince counts a referrer's referrals of a campaign at or after since.
func (s *Store) arrivedSince(referrerID, campaignID string, since time.Time) int {
	list := s.arrivals[inviterKey{referrerID, campaignID}]
	i, _ := slices.BinarySearchFunc(list, since, time.Time.Compare)
	return len(list) - i
}

// RedeemInvite implements community.AttributionStore. The store's write lock is held from
// reading the facts to writing the referral, so redemptions are decided one at a time.
func (s *Store) RedeemInvite(_ context.Context, r community.Redemption, check func(community.Redemption, community.RedemptionFacts) error) (community.Referral, error) {
	defer s.writing()()
	m := s.members[r.MemberID]
	if m == nil {
		return community.Referral{}, notFound(r.MemberID)
	}
	f := community.RedemptionFacts{JoinedAt: m.JoinedAt, MemberIdentities: m.identities, Referred: s.referredBy[r.MemberID] != nil,
		MemberDevices: m.devices}
	inv := s.invites[r.Code]
	if inv != nil {
		if c := s.campaigns[inv.CampaignID]; c != nil {
			i, camp := *inv, publicCampaign(c)
			f.Invite, f.Campaign = &i, &camp
		}
		if ref := s.members[inv.MemberID]; ref != nil {
			f.ReferrerIdentities, f.ReferrerDevices = ref.identities, ref.devices
		}
		f.RecentReferrals = s.arrivedSince(inv.MemberID, inv.CampaignID, r.BurstSince())
		// The upline of the referrer, the referrer included: a chain, since referrals
		// never form a cycle.
		for up := inv.MemberID; up != ""; {
			if up == r.MemberID {
				f.InUpline = true
				break
			}
			next := s.referredBy[up]
			if next == nil {
				break
			}
			up = next.ReferrerID
		}
	}
	if err := check(r, f); err != nil {
		return community.Referral{}, err
	}
	ref := community.Referral{
		MemberID: r.MemberID, ReferrerID: inv.MemberID, Code: inv.Code, CampaignID: inv.CampaignID, Channel: inv.Channel,
		At: r.At.UTC(), Flags: community.FlagReferral(r, f),
	}
	used := *inv
	used.Uses++
	seen := *m
	seen.devices = community.KeepDevice(m.devices, r.Device)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketReferrals, []byte(ref.MemberID), ref); err != nil {
			return err
		}
		if r.Device != "" {
			if err := putMember(tx, &seen); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketInvites, []byte(used.Code), used)
	})
	if err != nil {
		return community.Referral{}, fmt.Errorf("embedded: redeem invite for %q: %w", r.MemberID, err)
	}
	inv.Uses = used.Uses
	m.devices = seen.devices
	stored := ref
	stored.Flags = slices.Clone(ref.Flags)
	s.referredBy[ref.MemberID] = &stored
	s.arrive(&stored)
	s.countReferral(&stored)
	s.indexRanked(&stored, true)
	return ref, nil
}

// SeenOnDevice implements community.AttributionStore.
func (s *Store) SeenOnDevice(_ context.Context, memberID, hash string) error {
	defer s.writing()()
	m := s.members[memberID]
	if m == nil {
		return notFound(memberID)
	}
	seen := *m
	seen.devices = community.KeepDevice(m.devices, hash)
	if err := s.db.Update(func(tx *bolt.Tx) error { return putMember(tx, &seen) }); err != nil {
		return fmt.Errorf("embedded: keep a device of %q: %w", memberID, err)
	}
	m.devices = seen.devices
	return nil
}

// DevicesOf implements community.AttributionStore.
func (s *Store) DevicesOf(_ context.Context, memberIDs []string) (map[string][]string, error) {
	defer s.reading()()
	out := make(map[string][]string, len(memberIDs))
	for _, id := range memberIDs {
		if m := s.members[id]; m != nil && len(m.devices) > 0 {
			out[id] = slices.Clone(m.devices)
		}
	}
	return out, nil
}

// ReferralsOf implements community.AttributionStore.
func (s *Store) ReferralsOf(_ context.Context, memberIDs []string) (map[string]community.Referral, error) {
	defer s.reading()()
	out := make(map[string]community.Referral, len(memberIDs))
	for _, id := range memberIDs {
		if r := s.referredBy[id]; r != nil {
			ref := *r
			ref.Flags = slices.Clone(r.Flags)
			out[id] = ref
		}
	}
	return out, nil
}

// indexInvite adds an invite to the in-memory maps.
func (s *Store) indexInvite(inv *community.Invite) {
	s.invites[inv.Code] = inv
	k := inviterKey{inv.MemberID, inv.CampaignID}
	s.invitesOf[k] = append(s.invitesOf[k], inv)
}

// CreateInvite implements community.ReferralStore.
func (s *Store) CreateInvite(_ context.Context, inv community.Invite, now time.Time) (community.Invite, bool, error) {
	inv.ExpiresAt, inv.CreatedAt = inv.ExpiresAt.UTC(), inv.CreatedAt.UTC()
	defer s.writing()()
	switch {
	case s.members[inv.MemberID] == nil:
		return community.Invite{}, false, notFound(inv.MemberID)
	case s.campaigns[inv.CampaignID] == nil:
		return community.Invite{}, false, community.Errorf(community.CodeNotFound, "no campaign %q", inv.CampaignID)
	}
	mine := s.invitesOf[inviterKey{inv.MemberID, inv.CampaignID}]
	for i := len(mine) - 1; i >= 0; i-- {
		if mine[i].LiveAt(now) {
			return *mine[i], false, nil
		}
	}
	if s.invites[inv.Code] != nil {
		return community.Invite{}, false, conflict("the code is taken")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketInvites, []byte(inv.Code), inv)
	})
	if err != nil {
		return community.Invite{}, false, fmt.Errorf("embedded: create invite: %w", err)
	}
	n := inv
	s.indexInvite(&n)
	return inv, true, nil
}

// InviteByCode implements community.ReferralStore.
func (s *Store) InviteByCode(_ context.Context, code string) (community.Invite, error) {
	defer s.reading()()
	if inv := s.invites[code]; inv != nil {
		return *inv, nil
	}
	return community.Invite{}, community.Errorf(community.CodeNotFound, "no invite %q", code)
}

// CreateReferralCampaign implements community.ReferralStore.
func (s *Store) CreateReferralCampaign(_ context.Context, c community.ReferralCampaign) error {
	c.Rules = slices.Clone(c.Rules)
	c.StartsAt, c.EndsAt, c.CreatedAt, c.EndedAt = c.StartsAt.UTC(), c.EndsAt.UTC(), c.CreatedAt.UTC(), c.EndedAt.UTC()
	defer s.writing()()
	switch {
	case s.brands[c.BrandID] == nil:
		return brandNotFound(c.BrandID)
	case s.campaigns[c.ID] != nil:
		return conflict("campaign %q exists already", c.ID)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketCampaigns, []byte(c.ID), c)
	})
	if err != nil {
		return fmt.Errorf("embedded: create campaign: %w", err)
	}
	n := &c
	s.campaigns[c.ID] = n
	s.campaignsOf[c.BrandID] = insertSorted(s.campaignsOf[c.BrandID], n, compareCampaigns)
	return nil
}

// EndReferralCampaign implements community.ReferralStore.
func (s *Store) EndReferralCampaign(_ context.Context, campaignID string, at time.Time) (community.ReferralCampaign, error) {
	defer s.writing()()
	c := s.campaigns[campaignID]
	if c == nil {
		return community.ReferralCampaign{}, community.Errorf(community.CodeNotFound, "no campaign %q", campaignID)
	}
	if !c.EndedAt.IsZero() {
		return publicCampaign(c), nil
	}
	next := publicCampaign(c)
	next.EndedAt = at.UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketCampaigns, []byte(campaignID), next)
	})
	if err != nil {
		return community.ReferralCampaign{}, fmt.Errorf("embedded: end campaign %q: %w", campaignID, err)
	}
	c.EndedAt = next.EndedAt
	return next, nil
}

// ReferralCampaignsByID implements community.ReferralStore.
func (s *Store) ReferralCampaignsByID(_ context.Context, ids []string) (map[string]community.ReferralCampaign, error) {
	defer s.reading()()
	out := make(map[string]community.ReferralCampaign, len(ids))
	for _, id := range ids {
		if c := s.campaigns[id]; c != nil {
			out[id] = publicCampaign(c)
		}
	}
	return out, nil
}

// ReferralCampaigns implements community.ReferralStore.
func (s *Store) ReferralCampaigns(_ context.Context, brandID string, first int, after *community.Position) (community.CampaignPage, error) {
	defer s.reading()()
	list := s.campaignsOf[brandID]
	out := community.CampaignPage{TotalCount: len(list)}
	end := pageEnd(list, after, func(c *community.ReferralCampaign) (time.Time, string) { return c.CreatedAt, c.ID })
	for i := end - 1; i >= 0; i-- {
		if len(out.Campaigns) >= first {
			out.HasNextPage = true
			break
		}
		out.Campaigns = append(out.Campaigns, publicCampaign(list[i]))
	}
	return out, nil
}

// UplinesOf implements community.AttributionStore.
func (s *Store) UplinesOf(_ context.Context, memberIDs []string, maxDepth int) (map[string][]string, error) {
	defer s.reading()()
	out := make(map[string][]string, len(memberIDs))
	for _, id := range memberIDs {
		var up []string
		for r := s.referredBy[id]; r != nil && len(up) < maxDepth; r = s.referredBy[r.ReferrerID] {
			up = append(up, r.ReferrerID)
		}
		if up != nil {
			out[id] = up
		}
	}
	return out, nil
}
