package resolvers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"quanzi/community"
)

// countingStore counts the round trips made to the store it wraps: every method of
// community.Store is one, and every one is counted (the compile-time check below fails
// when the port grows a method this wrapper lacks).
type countingStore struct {
	next  community.Store
	calls atomic.Int64
	// countReads and postReads count the two reads of a HOT page apart as well: the
	// candidates' counts (RecentPostCounts) and the page's posts (PostsByID).
	countReads, postReads atomic.Int64
	// consentReads counts the reads of members' consents (ConsentsOf), and consentsRead
	// how many times each member's were read.
	consentReads atomic.Int64
	mu           sync.Mutex
	consentsRead map[string]int
}

var _ community.Store = (*countingStore)(nil)

func (cs *countingStore) CreateBrand(ctx context.Context, b community.Brand) error {
	cs.calls.Add(1)
	return cs.next.CreateBrand(ctx, b)
}

func (cs *countingStore) SetBrandTiers(ctx context.Context, brandID string, tiers []community.Tier) error {
	cs.calls.Add(1)
	return cs.next.SetBrandTiers(ctx, brandID, tiers)
}

func (cs *countingStore) BrandsByID(ctx context.Context, ids []string) (map[string]community.Brand, error) {
	cs.calls.Add(1)
	return cs.next.BrandsByID(ctx, ids)
}

func (cs *countingStore) BrandBySlug(ctx context.Context, slug string) (community.Brand, error) {
	cs.calls.Add(1)
	return cs.next.BrandBySlug(ctx, slug)
}

func (cs *countingStore) InvitePartner(ctx context.Context, p community.Partnership) error {
	cs.calls.Add(1)
	return cs.next.InvitePartner(ctx, p)
}

func (cs *countingStore) AcceptPartnership(ctx context.Context, inviterID, inviteeID string, at time.Time) error {
	cs.calls.Add(1)
	return cs.next.AcceptPartnership(ctx, inviterID, inviteeID, at)
}

func (cs *countingStore) EndPartnership(ctx context.Context, brandID, otherID string, at time.Time) error {
	cs.calls.Add(1)
	return cs.next.EndPartnership(ctx, brandID, otherID, at)
}

func (cs *countingStore) PartnershipsOf(ctx context.Context, brandIDs []string) (map[string][]community.Partnership, error) {
	cs.calls.Add(1)
	return cs.next.PartnershipsOf(ctx, brandIDs)
}

func (cs *countingStore) JoinBrand(ctx context.Context, memberID, brandID string, at time.Time) error {
	cs.calls.Add(1)
	return cs.next.JoinBrand(ctx, memberID, brandID, at)
}

func (cs *countingStore) MembershipsOf(ctx context.Context, memberIDs []string) (map[string][]community.BrandMembership, error) {
	cs.calls.Add(1)
	return cs.next.MembershipsOf(ctx, memberIDs)
}

func (cs *countingStore) BrandMembers(ctx context.Context, brandID string, q community.MembersQuery) (community.MembershipPage, error) {
	cs.calls.Add(1)
	return cs.next.BrandMembers(ctx, brandID, q)
}

func (cs *countingStore) BrandMemberCounts(ctx context.Context, brandIDs []string) (map[string]int, error) {
	cs.calls.Add(1)
	return cs.next.BrandMemberCounts(ctx, brandIDs)
}

func (cs *countingStore) ChangeConsent(ctx context.Context, memberID, brandID string, scopes []community.ConsentScope, granted bool, at time.Time, ids []string) ([]community.ConsentChange, error) {
	cs.calls.Add(1)
	return cs.next.ChangeConsent(ctx, memberID, brandID, scopes, granted, at, ids)
}

func (cs *countingStore) ConsentsOf(ctx context.Context, memberIDs []string) (map[string][]community.Consent, error) {
	cs.calls.Add(1)
	cs.consentReads.Add(1)
	cs.mu.Lock()
	if cs.consentsRead == nil {
		cs.consentsRead = map[string]int{}
	}
	for _, id := range memberIDs {
		cs.consentsRead[id]++
	}
	cs.mu.Unlock()
	return cs.next.ConsentsOf(ctx, memberIDs)
}

func (cs *countingStore) ConsentHistory(ctx context.Context, memberID string, first int, before string) ([]community.ConsentChange, bool, error) {
	cs.calls.Add(1)
	return cs.next.ConsentHistory(ctx, memberID, first, before)
}

func (cs *countingStore) RecordPurchase(ctx context.Context, p community.Purchase) (community.Purchase, error) {
	cs.calls.Add(1)
	return cs.next.RecordPurchase(ctx, p)
}

func (cs *countingStore) RefundPurchase(ctx context.Context, brandID, purchaseID string, at time.Time) (community.Purchase, error) {
	cs.calls.Add(1)
	return cs.next.RefundPurchase(ctx, brandID, purchaseID, at)
}

func (cs *countingStore) PurchasesOf(ctx context.Context, brandID string, memberIDs []string) (map[string][]community.Purchase, error) {
	cs.calls.Add(1)
	return cs.next.PurchasesOf(ctx, brandID, memberIDs)
}

func (cs *countingStore) CreateClub(ctx context.Context, c community.Club, manager *community.ClubMembership) error {
	cs.calls.Add(1)
	return cs.next.CreateClub(ctx, c, manager)
}

func (cs *countingStore) UpdateClub(ctx context.Context, clubID string, in community.UpdateClubInput) (community.Club, error) {
	cs.calls.Add(1)
	return cs.next.UpdateClub(ctx, clubID, in)
}

func (cs *countingStore) ClubsByID(ctx context.Context, ids []string) (map[string]community.Club, error) {
	cs.calls.Add(1)
	return cs.next.ClubsByID(ctx, ids)
}

func (cs *countingStore) ClubBySlug(ctx context.Context, slug string) (community.Club, error) {
	cs.calls.Add(1)
	return cs.next.ClubBySlug(ctx, slug)
}

func (cs *countingStore) ClubsOfBrands(ctx context.Context, brandIDs []string) (map[string][]community.Club, error) {
	cs.calls.Add(1)
	return cs.next.ClubsOfBrands(ctx, brandIDs)
}

func (cs *countingStore) JoinClub(ctx context.Context, m community.ClubMembership) error {
	cs.calls.Add(1)
	return cs.next.JoinClub(ctx, m)
}

func (cs *countingStore) LeaveClub(ctx context.Context, clubID, memberID string) error {
	cs.calls.Add(1)
	return cs.next.LeaveClub(ctx, clubID, memberID)
}

func (cs *countingStore) RequestJoin(ctx context.Context, r community.JoinRequest) error {
	cs.calls.Add(1)
	return cs.next.RequestJoin(ctx, r)
}

func (cs *countingStore) JoinRequests(ctx context.Context, clubID string, first int, after *community.Position) ([]community.JoinRequest, bool, error) {
	cs.calls.Add(1)
	return cs.next.JoinRequests(ctx, clubID, first, after)
}

func (cs *countingStore) DecideJoinRequest(ctx context.Context, clubID, memberID string, approve bool, at time.Time) error {
	cs.calls.Add(1)
	return cs.next.DecideJoinRequest(ctx, clubID, memberID, approve, at)
}

func (cs *countingStore) SetClubRole(ctx context.Context, clubID, memberID string, role community.ClubRole) error {
	cs.calls.Add(1)
	return cs.next.SetClubRole(ctx, clubID, memberID, role)
}

func (cs *countingStore) ClubMemberships(ctx context.Context, keys []community.ClubMemberKey) (map[community.ClubMemberKey]community.ClubMembership, error) {
	cs.calls.Add(1)
	return cs.next.ClubMemberships(ctx, keys)
}

func (cs *countingStore) ClubMembers(ctx context.Context, clubID string, role community.ClubRole, first int, after *community.Position) ([]community.ClubMembership, bool, error) {
	cs.calls.Add(1)
	return cs.next.ClubMembers(ctx, clubID, role, first, after)
}

func (cs *countingStore) ClubMemberCounts(ctx context.Context, clubIDs []string) (map[string]int, error) {
	cs.calls.Add(1)
	return cs.next.ClubMemberCounts(ctx, clubIDs)
}

func (cs *countingStore) CreatePost(ctx context.Context, p community.Post) error {
	cs.calls.Add(1)
	return cs.next.CreatePost(ctx, p)
}

func (cs *countingStore) EditPost(ctx context.Context, postID string, in community.PostInput, at time.Time) (community.Post, error) {
	cs.calls.Add(1)
	return cs.next.EditPost(ctx, postID, in, at)
}

func (cs *countingStore) DeletePost(ctx context.Context, postID string, at time.Time) (community.Post, error) {
	cs.calls.Add(1)
	return cs.next.DeletePost(ctx, postID, at)
}

func (cs *countingStore) PostsByID(ctx context.Context, ids []string) (map[string]community.Post, error) {
	cs.calls.Add(1)
	cs.postReads.Add(1)
	return cs.next.PostsByID(ctx, ids)
}

func (cs *countingStore) ClubPosts(ctx context.Context, clubID string, q community.PostQuery) ([]community.Post, bool, error) {
	cs.calls.Add(1)
	return cs.next.ClubPosts(ctx, clubID, q)
}

func (cs *countingStore) RecentPostCounts(ctx context.Context, clubID string, since time.Time, limit int) ([]community.PostCounts, error) {
	cs.calls.Add(1)
	cs.countReads.Add(1)
	return cs.next.RecentPostCounts(ctx, clubID, since, limit)
}

func (cs *countingStore) AddComment(ctx context.Context, c community.Comment) error {
	cs.calls.Add(1)
	return cs.next.AddComment(ctx, c)
}

func (cs *countingStore) EditComment(ctx context.Context, commentID, body string, at time.Time) (community.Comment, error) {
	cs.calls.Add(1)
	return cs.next.EditComment(ctx, commentID, body, at)
}

func (cs *countingStore) DeleteComment(ctx context.Context, commentID string, at time.Time) (community.Comment, error) {
	cs.calls.Add(1)
	return cs.next.DeleteComment(ctx, commentID, at)
}

func (cs *countingStore) CommentsByID(ctx context.Context, ids []string) (map[string]community.Comment, error) {
	cs.calls.Add(1)
	return cs.next.CommentsByID(ctx, ids)
}

func (cs *countingStore) Comments(ctx context.Context, parents []string, first int, after *community.Position) (map[string][]community.Comment, map[string]bool, error) {
	cs.calls.Add(1)
	return cs.next.Comments(ctx, parents, first, after)
}

func (cs *countingStore) React(ctx context.Context, memberID, targetID string, kind community.ReactionKind, at time.Time) error {
	cs.calls.Add(1)
	return cs.next.React(ctx, memberID, targetID, kind, at)
}

func (cs *countingStore) Unreact(ctx context.Context, memberID, targetID string, kind community.ReactionKind) error {
	cs.calls.Add(1)
	return cs.next.Unreact(ctx, memberID, targetID, kind)
}

func (cs *countingStore) ViewerReactions(ctx context.Context, memberID string, targetIDs []string) (map[string][]community.ReactionKind, error) {
	cs.calls.Add(1)
	return cs.next.ViewerReactions(ctx, memberID, targetIDs)
}

func (cs *countingStore) SharePost(ctx context.Context, s community.Share) error {
	cs.calls.Add(1)
	return cs.next.SharePost(ctx, s)
}

func (cs *countingStore) Feed(ctx context.Context, memberID string, first int, after *community.FeedPosition, asOf time.Time) ([]community.FeedItem, bool, error) {
	cs.calls.Add(1)
	return cs.next.Feed(ctx, memberID, first, after, asOf)
}

func (cs *countingStore) ImportClubMembers(ctx context.Context, memberships []community.ClubMembership) error {
	cs.calls.Add(1)
	return cs.next.ImportClubMembers(ctx, memberships)
}

func (cs *countingStore) ImportPosts(ctx context.Context, posts []community.Post) error {
	cs.calls.Add(1)
	return cs.next.ImportPosts(ctx, posts)
}

func (cs *countingStore) ImportReactions(ctx context.Context, reactions []community.Reaction) error {
	cs.calls.Add(1)
	return cs.next.ImportReactions(ctx, reactions)
}

func (cs *countingStore) CreateMember(ctx context.Context, m community.Member, first community.Identity) error {
	cs.calls.Add(1)
	return cs.next.CreateMember(ctx, m, first)
}

func (cs *countingStore) UpdateMember(ctx context.Context, memberID string, in community.UpdateProfileInput) (community.Member, error) {
	cs.calls.Add(1)
	return cs.next.UpdateMember(ctx, memberID, in)
}

func (cs *countingStore) MembersByID(ctx context.Context, ids []string) (map[string]community.Member, error) {
	cs.calls.Add(1)
	return cs.next.MembersByID(ctx, ids)
}

func (cs *countingStore) MemberByHandle(ctx context.Context, handle string) (community.Member, error) {
	cs.calls.Add(1)
	return cs.next.MemberByHandle(ctx, handle)
}

func (cs *countingStore) IdentitiesOf(ctx context.Context, memberIDs []string) (map[string][]community.Identity, error) {
	cs.calls.Add(1)
	return cs.next.IdentitiesOf(ctx, memberIDs)
}

func (cs *countingStore) LinkIdentity(ctx context.Context, memberID string, id community.Identity) error {
	cs.calls.Add(1)
	return cs.next.LinkIdentity(ctx, memberID, id)
}

func (cs *countingStore) UnlinkIdentity(ctx context.Context, memberID string, provider community.IdentityProvider) error {
	cs.calls.Add(1)
	return cs.next.UnlinkIdentity(ctx, memberID, provider)
}

func (cs *countingStore) Follow(ctx context.Context, followerID, followeeID string, at time.Time) error {
	cs.calls.Add(1)
	return cs.next.Follow(ctx, followerID, followeeID, at)
}

func (cs *countingStore) Unfollow(ctx context.Context, followerID, followeeID string) error {
	cs.calls.Add(1)
	return cs.next.Unfollow(ctx, followerID, followeeID)
}

func (cs *countingStore) FollowLists(ctx context.Context, kind community.ListKind, first int, reqs []community.ListRequest) ([]community.FollowPage, error) {
	cs.calls.Add(1)
	return cs.next.FollowLists(ctx, kind, first, reqs)
}

func (cs *countingStore) FollowCounts(ctx context.Context, memberIDs []string) (map[string]community.FollowCounts, error) {
	cs.calls.Add(1)
	return cs.next.FollowCounts(ctx, memberIDs)
}

func (cs *countingStore) FollowStates(ctx context.Context, viewerID string, otherIDs []string) (map[string]community.FollowState, error) {
	cs.calls.Add(1)
	return cs.next.FollowStates(ctx, viewerID, otherIDs)
}

func (cs *countingStore) SuggestedFollows(ctx context.Context, memberIDs []string, limit int) (map[string][]community.Suggestion, error) {
	cs.calls.Add(1)
	return cs.next.SuggestedFollows(ctx, memberIDs, limit)
}

func (cs *countingStore) ImportMembers(ctx context.Context, members []community.ImportedMember) error {
	cs.calls.Add(1)
	return cs.next.ImportMembers(ctx, members)
}

func (cs *countingStore) ImportFollows(ctx context.Context, follows []community.Follow) error {
	cs.calls.Add(1)
	return cs.next.ImportFollows(ctx, follows)
}

func (cs *countingStore) Ping(ctx context.Context) error {
	cs.calls.Add(1)
	return cs.next.Ping(ctx)
}

func (cs *countingStore) SearchMembers(ctx context.Context, prefix string, limit int) ([]community.Member, error) {
	cs.calls.Add(1)
	return cs.next.SearchMembers(ctx, prefix, limit)
}

func (cs *countingStore) ScanPosts(ctx context.Context, afterID string, limit int) ([]community.Post, error) {
	cs.calls.Add(1)
	return cs.next.ScanPosts(ctx, afterID, limit)
}

func (cs *countingStore) JoinedClubIDs(ctx context.Context, memberID string) ([]string, error) {
	cs.calls.Add(1)
	return cs.next.JoinedClubIDs(ctx, memberID)
}

func (cs *countingStore) PendingEvents(ctx context.Context, limit int) ([]community.OutboxEvent, error) {
	cs.calls.Add(1)
	return cs.next.PendingEvents(ctx, limit)
}

func (cs *countingStore) AckEvents(ctx context.Context, events []community.OutboxEvent) error {
	cs.calls.Add(1)
	return cs.next.AckEvents(ctx, events)
}

func (cs *countingStore) OutboxBacklog(ctx context.Context) (community.Backlog, error) {
	cs.calls.Add(1)
	return cs.next.OutboxBacklog(ctx)
}

func (cs *countingStore) PendingClubs(ctx context.Context) ([]community.Club, error) {
	cs.calls.Add(1)
	return cs.next.PendingClubs(ctx)
}

func (cs *countingStore) ReserveIdempotencyKey(ctx context.Context, rec community.IdempotencyRecord, expiredBefore time.Time) (community.IdempotencyRecord, error) {
	cs.calls.Add(1)
	return cs.next.ReserveIdempotencyKey(ctx, rec, expiredBefore)
}
