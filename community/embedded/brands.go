package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"quanzi/community"
)

// Bucket names of the brand part of the bbolt file. Each holds JSON documents; the
// in-memory indexes (slugs, pairs of brands, external purchase ids) are rebuilt from them
// at load.
var (
	// bucketBrands maps a brand id to its community.Brand.
	bucketBrands = []byte("brands")
	// bucketPartnerships maps a sequence number (big-endian) to a community.Partnership,
	// ended ones included: the history of who partnered with whom.
	bucketPartnerships = []byte("partnerships")
	// bucketMemberships maps brand id, NUL, member id to a community.BrandMembership.
	bucketMemberships = []byte("memberships")
	// bucketConsents maps member id, NUL, brand id to a consentDoc: the current consent.
	bucketConsents = []byte("consents")
	// bucketConsentChanges maps a change id to its community.ConsentChange: the ledger.
	bucketConsentChanges = []byte("consent_changes")
	// bucketPurchases maps a purchase id to its purchaseDoc.
	bucketPurchases = []byte("purchases")
)

// brandBuckets are the buckets migrate creates for the brand part.
var brandBuckets = [][]byte{bucketBrands, bucketPartnerships, bucketMemberships, bucketConsents, bucketConsentChanges, bucketPurchases}

// brandGraph is the in-memory part of the store about brands, partnerships, membership
// programmes, consent and purchases. It is guarded by Store.mu, like the rest of the graph.
type brandGraph struct {
	brands map[string]*brand
	bySlug map[string]*brand
	// partnerships maps each unordered pair of brands to its partnership that is not
	// ended; ended ones live only in the file.
	partnerships map[brandPair]*partnership
	// memberships are each member's programme memberships, oldest first (Since, then
	// brand id). They share their pointers with the brands' rosters.
	memberships map[string][]*community.BrandMembership
	// consents are each member's current consents by brand, including consents that
	// have no scope left.
	consents map[string]map[string]community.Consent
	// ledger is each member's consent changes by ID ascending; changeIDs holds every ID.
	ledger    map[string][]community.ConsentChange
	changeIDs map[string]bool
	purchases map[string]*community.Purchase
	// credited holds, by purchase id, the points that recording each purchase credited
	// to its member's programme membership: what refunding it takes back.
	credited map[string]int
	// byExternal finds a purchase by the brand's own id for it, for idempotent recording.
	byExternal map[externalKey]*community.Purchase
	// purchasesOf is each member's purchases oldest first (At, then ID): the reverse of
	// list order, so that recording a new purchase is usually an append.
	purchasesOf map[string][]*community.Purchase
}

func newBrandGraph() brandGraph {
	return brandGraph{
		brands:       map[string]*brand{},
		bySlug:       map[string]*brand{},
		partnerships: map[brandPair]*partnership{},
		memberships:  map[string][]*community.BrandMembership{},
		consents:     map[string]map[string]community.Consent{},
		ledger:       map[string][]community.ConsentChange{},
		changeIDs:    map[string]bool{},
		purchases:    map[string]*community.Purchase{},
		credited:     map[string]int{},
		byExternal:   map[externalKey]*community.Purchase{},
		purchasesOf:  map[string][]*community.Purchase{},
	}
}

// brand is a brand node of the in-memory graph.
type brand struct {
	community.Brand
	// members are the programme's memberships by member id.
	members map[string]*community.BrandMembership
	// roster holds the same memberships oldest first (Since ascending, then member id
	// descending): the reverse of list order, so that a join is usually an append.
	roster []*community.BrandMembership
	// partnerships are the brand's partnerships that are not ended, oldest invitation first.
	partnerships []*partnership
}

// partnership is a partnership that is not ended, with its key in the file.
type partnership struct {
	community.Partnership
	// seq is the partnership's key in bucketPartnerships.
	seq uint64
}

// brandPair is an unordered pair of brand ids: lo <= hi.
type brandPair struct{ lo, hi string }

func pairOf(a, b string) brandPair {
	if b < a {
		a, b = b, a
	}
	return brandPair{a, b}
}

type externalKey struct{ brandID, externalID string }

// purchaseDoc is a purchase as stored in bbolt: the fields of community.Purchase, side by
// side with what recording it credited.
type purchaseDoc struct {
	community.Purchase
	// Credited is the points recording the purchase added to the member's programme
	// membership: 0 when the member had not joined the programme or the purchase came
	// refunded. Documents written before the field existed lack it (nil); they count as
	// having credited the purchase's Points, which is what their refunds took back then.
	Credited *int `json:"credited,omitempty"`
}

// consentDoc is a member's current consent to one brand as stored in bbolt.
type consentDoc struct {
	MemberID string            `json:"memberId"`
	Consent  community.Consent `json:"consent"`
}

func brandNotFound(id string) error {
	return community.Errorf(community.CodeNotFound, "no brand %q", id)
}

func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", bucket, err)
	}
	return tx.Bucket(bucket).Put(key, data)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func membershipKey(m *community.BrandMembership) []byte {
	return []byte(m.BrandID + "\x00" + m.MemberID)
}

func consentKey(memberID, brandID string) []byte { return []byte(memberID + "\x00" + brandID) }

// compareRoster orders memberships as a brand's roster keeps them: oldest first, then by
// member id descending.
func compareRoster(a, b *community.BrandMembership) int {
	if c := a.Since.Compare(b.Since); c != 0 {
		return c
	}
	return -strings.Compare(a.MemberID, b.MemberID)
}

// compareMemberships orders a member's memberships: oldest first, then by brand id.
func compareMemberships(a, b *community.BrandMembership) int {
	if c := a.Since.Compare(b.Since); c != 0 {
		return c
	}
	return strings.Compare(a.BrandID, b.BrandID)
}

// comparePartnerships orders partnerships oldest invitation first, then by inviter and
// invitee, as every store does.
func comparePartnerships(a, b *partnership) int {
	if c := a.InvitedAt.Compare(b.InvitedAt); c != 0 {
		return c
	}
	if c := strings.Compare(a.InviterID, b.InviterID); c != 0 {
		return c
	}
	return strings.Compare(a.InviteeID, b.InviteeID)
}

// comparePurchases orders purchases oldest first (At, then ID): the reverse of list order.
func comparePurchases(a, b *community.Purchase) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

func insertSorted[T any](list []T, v T, cmp func(T, T) int) []T {
	i, _ := slices.BinarySearchFunc(list, v, cmp)
	return slices.Insert(list, i, v)
}

// loadBrands reads the brand part of the file into memory; the members are loaded already.
func (s *Store) loadBrands(tx *bolt.Tx) error {
	err := tx.Bucket(bucketBrands).ForEach(func(_, v []byte) error {
		var b community.Brand
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("embedded: decode brand: %w", err)
		}
		s.indexBrand(b)
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketPartnerships).ForEach(func(k, v []byte) error {
		p := &partnership{seq: binary.BigEndian.Uint64(k)}
		if err := json.Unmarshal(v, &p.Partnership); err != nil {
			return fmt.Errorf("embedded: decode partnership: %w", err)
		}
		if p.Status == community.PartnershipEnded {
			return nil
		}
		inviter, invitee := s.brands[p.InviterID], s.brands[p.InviteeID]
		if inviter == nil || invitee == nil {
			return fmt.Errorf("embedded: partnership %d refers to an unknown brand", p.seq)
		}
		s.partnerships[pairOf(p.InviterID, p.InviteeID)] = p
		inviter.partnerships = append(inviter.partnerships, p)
		invitee.partnerships = append(invitee.partnerships, p)
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketMemberships).ForEach(func(k, v []byte) error {
		m := &community.BrandMembership{}
		if err := json.Unmarshal(v, m); err != nil {
			return fmt.Errorf("embedded: decode membership: %w", err)
		}
		b := s.brands[m.BrandID]
		if b == nil || s.members[m.MemberID] == nil {
			return fmt.Errorf("embedded: membership %q refers to an unknown member or brand", k)
		}
		b.members[m.MemberID] = m
		b.roster = append(b.roster, m)
		s.memberships[m.MemberID] = append(s.memberships[m.MemberID], m)
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketConsents).ForEach(func(_, v []byte) error {
		var doc consentDoc
		if err := json.Unmarshal(v, &doc); err != nil {
			return fmt.Errorf("embedded: decode consent: %w", err)
		}
		s.setConsent(doc.MemberID, doc.Consent)
		return nil
	})
	if err != nil {
		return err
	}
	// Keys are change ids, so each member's ledger is read in ID order.
	err = tx.Bucket(bucketConsentChanges).ForEach(func(_, v []byte) error {
		var c community.ConsentChange
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("embedded: decode consent change: %w", err)
		}
		s.ledger[c.MemberID] = append(s.ledger[c.MemberID], c)
		s.changeIDs[c.ID] = true
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketPurchases).ForEach(func(_, v []byte) error {
		var doc purchaseDoc
		if err := json.Unmarshal(v, &doc); err != nil {
			return fmt.Errorf("embedded: decode purchase: %w", err)
		}
		p := &doc.Purchase
		s.purchases[p.ID] = p
		if doc.Credited != nil {
			s.credited[p.ID] = *doc.Credited
		} else {
			s.credited[p.ID] = p.Points()
		}
		s.byExternal[externalKey{p.BrandID, p.ExternalID}] = p
		s.purchasesOf[p.MemberID] = append(s.purchasesOf[p.MemberID], p)
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range s.brands {
		slices.SortFunc(b.roster, compareRoster)
		slices.SortFunc(b.partnerships, comparePartnerships)
	}
	for _, list := range s.memberships {
		slices.SortFunc(list, compareMemberships)
	}
	for _, list := range s.purchasesOf {
		slices.SortFunc(list, comparePurchases)
	}
	return nil
}

// indexBrand adds a brand to the in-memory maps.
func (s *Store) indexBrand(b community.Brand) {
	n := &brand{Brand: b, members: map[string]*community.BrandMembership{}}
	s.brands[b.ID] = n
	s.bySlug[community.SlugKey(b.Slug)] = n
}

// CreateBrand implements community.BrandStore.
func (s *Store) CreateBrand(_ context.Context, b community.Brand) error {
	b.Tiers = slices.Clone(b.Tiers)
	b.CreatedAt = b.CreatedAt.UTC()
	defer s.writing()()
	if s.brands[b.ID] != nil {
		return conflict("brand %q exists already", b.ID)
	}
	if s.bySlug[community.SlugKey(b.Slug)] != nil {
		return conflict("slug %q is taken", b.Slug)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketBrands, []byte(b.ID), b)
	})
	if err != nil {
		return fmt.Errorf("embedded: create brand: %w", err)
	}
	s.indexBrand(b)
	return nil
}

// SetBrandTiers implements community.BrandStore.
func (s *Store) SetBrandTiers(_ context.Context, brandID string, tiers []community.Tier) error {
	defer s.writing()()
	b := s.brands[brandID]
	if b == nil {
		return brandNotFound(brandID)
	}
	next := b.Brand
	next.Tiers = slices.Clone(tiers)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketBrands, []byte(brandID), next)
	})
	if err != nil {
		return fmt.Errorf("embedded: set tiers of brand %q: %w", brandID, err)
	}
	b.Brand = next
	return nil
}

// publicBrand returns a copy of a brand that shares no memory with the store.
func publicBrand(b *brand) community.Brand {
	out := b.Brand
	out.Tiers = slices.Clone(b.Tiers)
	return out
}

// BrandsByID implements community.BrandStore.
func (s *Store) BrandsByID(_ context.Context, ids []string) (map[string]community.Brand, error) {
	defer s.reading()()
	out := make(map[string]community.Brand, len(ids))
	for _, id := range ids {
		if b := s.brands[id]; b != nil {
			out[id] = publicBrand(b)
		}
	}
	return out, nil
}

// BrandBySlug implements community.BrandStore.
func (s *Store) BrandBySlug(_ context.Context, slug string) (community.Brand, error) {
	defer s.reading()()
	if b := s.bySlug[community.SlugKey(slug)]; b != nil {
		return publicBrand(b), nil
	}
	return community.Brand{}, community.Errorf(community.CodeNotFound, "no brand with slug %q", slug)
}

// InvitePartner implements community.BrandStore. The partnership is stored as pending
// whatever the status it comes with.
func (s *Store) InvitePartner(_ context.Context, p community.Partnership) error {
	p.Status = community.PartnershipPending
	p.InvitedAt = p.InvitedAt.UTC()
	p.AcceptedAt, p.EndedAt = time.Time{}, time.Time{}
	defer s.writing()()
	inviter, invitee := s.brands[p.InviterID], s.brands[p.InviteeID]
	switch {
	case inviter == nil:
		return brandNotFound(p.InviterID)
	case invitee == nil:
		return brandNotFound(p.InviteeID)
	case inviter == invitee:
		return community.Errorf(community.CodeBadUserInput, "a brand cannot partner with itself")
	case s.partnerships[pairOf(p.InviterID, p.InviteeID)] != nil:
		return conflict("the brands are partners already, or an invitation between them is pending")
	}
	var seq uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if seq, err = tx.Bucket(bucketPartnerships).NextSequence(); err != nil {
			return err
		}
		return putJSON(tx, bucketPartnerships, seqKey(seq), p)
	})
	if err != nil {
		return fmt.Errorf("embedded: invite partner: %w", err)
	}
	n := &partnership{Partnership: p, seq: seq}
	s.partnerships[pairOf(p.InviterID, p.InviteeID)] = n
	inviter.partnerships = insertSorted(inviter.partnerships, n, comparePartnerships)
	invitee.partnerships = insertSorted(invitee.partnerships, n, comparePartnerships)
	return nil
}

// AcceptPartnership implements community.BrandStore.
func (s *Store) AcceptPartnership(_ context.Context, inviterID, inviteeID string, at time.Time) error {
	defer s.writing()()
	p := s.partnerships[pairOf(inviterID, inviteeID)]
	if p == nil || p.Status != community.PartnershipPending || p.InviterID != inviterID || p.InviteeID != inviteeID {
		return community.Errorf(community.CodeNotFound, "no pending invitation from brand %q to brand %q", inviterID, inviteeID)
	}
	next := p.Partnership
	next.Status = community.PartnershipActive
	next.AcceptedAt = at.UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketPartnerships, seqKey(p.seq), next)
	})
	if err != nil {
		return fmt.Errorf("embedded: accept partnership: %w", err)
	}
	p.Partnership = next
	return nil
}

// EndPartnership implements community.BrandStore. The ended partnership stays in the file.
func (s *Store) EndPartnership(_ context.Context, brandID, otherID string, at time.Time) error {
	defer s.writing()()
	k := pairOf(brandID, otherID)
	p := s.partnerships[k]
	if p == nil {
		return community.Errorf(community.CodeNotFound, "brands %q and %q have no partnership or pending invitation", brandID, otherID)
	}
	next := p.Partnership
	next.Status = community.PartnershipEnded
	next.EndedAt = at.UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketPartnerships, seqKey(p.seq), next)
	})
	if err != nil {
		return fmt.Errorf("embedded: end partnership: %w", err)
	}
	delete(s.partnerships, k)
	for _, id := range []string{p.InviterID, p.InviteeID} {
		b := s.brands[id]
		b.partnerships = slices.DeleteFunc(b.partnerships, func(q *partnership) bool { return q == p })
	}
	return nil
}

// PartnershipsOf implements community.BrandStore. Unknown brands are absent from the map;
// a known brand without such partnerships has a nil list.
func (s *Store) PartnershipsOf(_ context.Context, brandIDs []string) (map[string][]community.Partnership, error) {
	defer s.reading()()
	out := make(map[string][]community.Partnership, len(brandIDs))
	for _, id := range brandIDs {
		b := s.brands[id]
		if b == nil {
			continue
		}
		var list []community.Partnership
		for _, p := range b.partnerships {
			list = append(list, p.Partnership)
		}
		out[id] = list
	}
	return out, nil
}

// JoinBrand implements community.BrandStore.
func (s *Store) JoinBrand(_ context.Context, memberID, brandID string, at time.Time) error {
	defer s.writing()()
	if s.members[memberID] == nil {
		return notFound(memberID)
	}
	b := s.brands[brandID]
	if b == nil {
		return brandNotFound(brandID)
	}
	if b.members[memberID] != nil {
		return nil
	}
	m := &community.BrandMembership{MemberID: memberID, BrandID: brandID, Since: at.UTC()}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx, bucketMemberships, membershipKey(m), m)
	})
	if err != nil {
		return fmt.Errorf("embedded: join brand: %w", err)
	}
	b.members[memberID] = m
	b.roster = insertSorted(b.roster, m, compareRoster)
	s.memberships[memberID] = insertSorted(s.memberships[memberID], m, compareMemberships)
	return nil
}

// MembershipsOf implements community.BrandStore. Unknown members are absent from the map;
// a known member without memberships has a nil list.
func (s *Store) MembershipsOf(_ context.Context, memberIDs []string) (map[string][]community.BrandMembership, error) {
	defer s.reading()()
	out := make(map[string][]community.BrandMembership, len(memberIDs))
	for _, id := range memberIDs {
		if s.members[id] == nil {
			continue
		}
		var ms []community.BrandMembership
		for _, m := range s.memberships[id] {
			ms = append(ms, *m)
		}
		out[id] = ms
	}
	return out, nil
}

// BrandMembers implements community.BrandStore. An unknown brand has no members.
func (s *Store) BrandMembers(_ context.Context, brandID string, q community.MembersQuery) (community.MembershipPage, error) {
	defer s.reading()()
	var out community.MembershipPage
	b := s.brands[brandID]
	if b == nil {
		return out, nil
	}
	// Memberships after the cursor in list order are those before it in roster order:
	// roster[:end].
	end := len(b.roster)
	if q.After != nil {
		end, _ = slices.BinarySearchFunc(b.roster, q.After, func(m *community.BrandMembership, p *community.Position) int {
			if p.Precedes(m.Since, m.MemberID) {
				return -1
			}
			return 1
		})
	}
	for i := end - 1; i >= 0; i-- {
		m := b.roster[i]
		if m.Points < q.MinPoints || q.MaxPoints >= 0 && m.Points >= q.MaxPoints {
			continue
		}
		if !s.consents[m.MemberID][brandID].Allows(community.ScopeProfile) {
			continue
		}
		if len(out.Memberships) >= q.First {
			out.HasNextPage = true
			break
		}
		out.Memberships = append(out.Memberships, *m)
	}
	return out, nil
}

// BrandMemberCounts implements community.BrandStore. Unknown brands are absent; known
// brands are present, with 0 when their programme is empty.
func (s *Store) BrandMemberCounts(_ context.Context, brandIDs []string) (map[string]int, error) {
	defer s.reading()()
	out := make(map[string]int, len(brandIDs))
	for _, id := range brandIDs {
		if b := s.brands[id]; b != nil {
			out[id] = len(b.members)
		}
	}
	return out, nil
}

// setConsent records a member's current consent to a brand in memory.
func (s *Store) setConsent(memberID string, c community.Consent) {
	byBrand := s.consents[memberID]
	if byBrand == nil {
		byBrand = map[string]community.Consent{}
		s.consents[memberID] = byBrand
	}
	byBrand[c.BrandID] = c
}

// ChangeConsent implements community.BrandStore. Scopes are applied in the order given, so
// a scope named twice changes at most once. BAD_USER_INPUT for an unknown scope; CONFLICT
// when a change id is in the ledger already.
func (s *Store) ChangeConsent(_ context.Context, memberID, brandID string, scopes []community.ConsentScope, granted bool, at time.Time, ids []string) ([]community.ConsentChange, error) {
	if len(ids) < len(scopes) {
		return nil, fmt.Errorf("embedded: change consent: %d ids for %d scopes", len(ids), len(scopes))
	}
	at = at.UTC()
	defer s.writing()()
	if s.members[memberID] == nil {
		return nil, notFound(memberID)
	}
	if s.brands[brandID] == nil {
		return nil, brandNotFound(brandID)
	}
	state := map[community.ConsentScope]bool{}
	for _, sc := range s.consents[memberID][brandID].Scopes {
		state[sc] = true
	}
	var changes []community.ConsentChange
	used := map[string]bool{}
	for i, sc := range scopes {
		if !sc.Valid() {
			return nil, community.Errorf(community.CodeBadUserInput, "unknown consent scope %q", sc)
		}
		if state[sc] == granted {
			continue
		}
		if s.changeIDs[ids[i]] || used[ids[i]] {
			return nil, conflict("consent change %q exists already", ids[i])
		}
		used[ids[i]] = true
		state[sc] = granted
		changes = append(changes, community.ConsentChange{ID: ids[i], MemberID: memberID, BrandID: brandID, Scope: sc, Granted: granted, At: at})
	}
	if len(changes) == 0 {
		return nil, nil
	}
	next := community.Consent{BrandID: brandID, UpdatedAt: at}
	for _, sc := range community.ConsentScopes {
		if state[sc] {
			next.Scopes = append(next.Scopes, sc)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketConsents, consentKey(memberID, brandID), consentDoc{MemberID: memberID, Consent: next}); err != nil {
			return err
		}
		for _, c := range changes {
			if err := putJSON(tx, bucketConsentChanges, []byte(c.ID), c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: change consent: %w", err)
	}
	s.setConsent(memberID, next)
	for _, c := range changes {
		s.ledger[memberID] = insertSorted(s.ledger[memberID], c, func(a, b community.ConsentChange) int { return strings.Compare(a.ID, b.ID) })
		s.changeIDs[c.ID] = true
	}
	return slices.Clone(changes), nil
}

// ConsentsOf implements community.BrandStore. Unknown members are absent from the map; a
// known member without consents has a nil list.
func (s *Store) ConsentsOf(_ context.Context, memberIDs []string) (map[string][]community.Consent, error) {
	defer s.reading()()
	out := make(map[string][]community.Consent, len(memberIDs))
	for _, id := range memberIDs {
		if s.members[id] == nil {
			continue
		}
		var list []community.Consent
		for _, c := range s.consents[id] {
			if len(c.Scopes) > 0 {
				c.Scopes = slices.Clone(c.Scopes)
				list = append(list, c)
			}
		}
		slices.SortFunc(list, func(a, b community.Consent) int { return strings.Compare(a.BrandID, b.BrandID) })
		out[id] = list
	}
	return out, nil
}

// ConsentHistory implements community.BrandStore. An unknown member has an empty ledger.
func (s *Store) ConsentHistory(_ context.Context, memberID string, first int, before string) ([]community.ConsentChange, bool, error) {
	defer s.reading()()
	ledger := s.ledger[memberID]
	end := len(ledger)
	if before != "" {
		end, _ = slices.BinarySearchFunc(ledger, before, func(c community.ConsentChange, id string) int { return strings.Compare(c.ID, id) })
	}
	n := min(max(first, 0), end)
	var out []community.ConsentChange
	for i := end - 1; i >= end-n; i-- {
		out = append(out, ledger[i])
	}
	return out, end > n, nil
}

// RecordPurchase implements community.BrandStore. CONFLICT also when the purchase's id is
// taken by another purchase. The store's lock makes the check of the points limit, the
// credit and the rewards one step.
func (s *Store) RecordPurchase(_ context.Context, p community.Purchase, rule community.RewardRule) (community.Purchase, error) {
	p.At, p.RecordedAt, p.RefundedAt = p.At.UTC(), p.RecordedAt.UTC(), p.RefundedAt.UTC()
	defer s.writing()()
	if s.members[p.MemberID] == nil {
		return community.Purchase{}, notFound(p.MemberID)
	}
	b := s.brands[p.BrandID]
	if b == nil {
		return community.Purchase{}, brandNotFound(p.BrandID)
	}
	if old := s.byExternal[externalKey{p.BrandID, p.ExternalID}]; old != nil {
		if old.MemberID == p.MemberID && old.Amount == p.Amount && old.Currency == p.Currency && old.At.Equal(p.At) {
			return *old, nil
		}
		return community.Purchase{}, conflict("external id %q is recorded already for another purchase", p.ExternalID)
	}
	if s.purchases[p.ID] != nil {
		return community.Purchase{}, conflict("purchase %q exists already", p.ID)
	}
	m := b.members[p.MemberID]
	credited := 0
	if m != nil && !p.Refunded() {
		credited = p.Points()
	}
	if credited > 0 && m.Points+credited > community.MaxPoints {
		return community.Purchase{}, community.PointsLimitError()
	}
	l := s.newLedger()
	if credited > 0 {
		l.change(m, credited, community.PointsEntry{ID: community.PointsEntryID(community.PointsPurchase, p.ID),
			Reason: community.PointsPurchase, PurchaseID: p.ID, At: p.RecordedAt})
	}
	if rule != nil {
		for _, r := range rule(s.rewardFacts(p)) {
			l.create(r)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketPurchases, []byte(p.ID), purchaseDoc{Purchase: p, Credited: &credited}); err != nil {
			return err
		}
		return l.put(tx, p.RecordedAt)
	})
	if err != nil {
		return community.Purchase{}, fmt.Errorf("embedded: record purchase: %w", err)
	}
	stored := &p
	s.purchases[p.ID] = stored
	s.credited[p.ID] = credited
	s.byExternal[externalKey{p.BrandID, p.ExternalID}] = stored
	s.purchasesOf[p.MemberID] = insertSorted(s.purchasesOf[p.MemberID], stored, comparePurchases)
	l.apply()
	s.countConversion(p.MemberID)
	return p, nil
}

// RefundPurchase implements community.BrandStore. It takes back what recording the
// purchase credited, kept with the purchase, so a purchase recorded before its member
// joined the programme takes back nothing.
func (s *Store) RefundPurchase(_ context.Context, brandID, purchaseID string, at time.Time) (community.Purchase, error) {
	at = at.UTC()
	defer s.writing()()
	p := s.purchases[purchaseID]
	if p == nil || p.BrandID != brandID {
		return community.Purchase{}, community.Errorf(community.CodeNotFound, "no purchase %q of brand %q", purchaseID, brandID)
	}
	if p.Refunded() {
		return *p, nil
	}
	refunded := *p
	refunded.RefundedAt = at
	credited := s.credited[p.ID]
	l := s.newLedger()
	// The membership changes only when there are points to take back.
	if m := s.brands[brandID].members[p.MemberID]; m != nil && credited > 0 {
		l.change(m, -credited, community.PointsEntry{ID: community.PointsEntryID(community.PointsRefund, p.ID),
			Reason: community.PointsRefund, PurchaseID: p.ID, At: at})
	}
	s.unwindRewards(l, p, at)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketPurchases, []byte(p.ID), purchaseDoc{Purchase: refunded, Credited: &credited}); err != nil {
			return err
		}
		return l.put(tx, at)
	})
	if err != nil {
		return community.Purchase{}, fmt.Errorf("embedded: refund purchase %q: %w", purchaseID, err)
	}
	*p = refunded
	l.apply()
	s.countConversion(p.MemberID)
	return refunded, nil
}

// PurchasesOf implements community.BrandStore. Unknown members are absent from the map; a
// known member without such purchases has a nil list.
func (s *Store) PurchasesOf(_ context.Context, brandID string, memberIDs []string) (map[string][]community.Purchase, error) {
	defer s.reading()()
	out := make(map[string][]community.Purchase, len(memberIDs))
	for _, id := range memberIDs {
		if s.members[id] == nil {
			continue
		}
		list := s.purchasesOf[id]
		var ps []community.Purchase
		for i := len(list) - 1; i >= 0; i-- {
			if brandID == "" || list[i].BrandID == brandID {
				ps = append(ps, *list[i])
			}
		}
		out[id] = ps
	}
	return out, nil
}
