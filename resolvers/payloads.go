package resolvers

import (
	"context"

	"quanzi/community"
	"quanzi/graph/model"
)

// The payloads of mutations that several resolvers share. A mutation's resolver writes
// and builds its payload; what every mutation does after it (see Mutations) is not theirs.

// partnershipPayload is the payload of the partnership mutations: both brands, read after
// the write.
func (r *Resolver) partnershipPayload(ctx context.Context, in model.PartnerInput) (*model.PartnershipPayload, error) {
	brand, err := r.existingBrand(ctx, in.BrandID)
	if err != nil {
		return nil, err
	}
	partner, err := r.existingBrand(ctx, in.PartnerBrandID)
	if err != nil {
		return nil, err
	}
	return &model.PartnershipPayload{Brand: brand, Partner: partner}, nil
}

// decide approves or rejects a join request.
func (r *Resolver) decide(ctx context.Context, in model.JoinRequestDecisionInput, approve bool) (*model.JoinRequestDecisionPayload, error) {
	if err := r.Clubs.DecideJoinRequest(ctx, in.ClubID, in.MemberID, approve); err != nil {
		return nil, err
	}
	c, err := r.existingClub(ctx, in.ClubID)
	if err != nil {
		return nil, err
	}
	return &model.JoinRequestDecisionPayload{Club: c}, nil
}

// postPayload is the payload of the post mutations: the post as the service returned it.
func postPayload(p community.Post, err error) (*model.PostPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.PostPayload{Post: &p}, nil
}

// commentPayload is the payload of the comment mutations.
func commentPayload(c community.Comment, err error) (*model.CommentPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.CommentPayload{Comment: &c}, nil
}
