package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"quanzi/community"
)

// ConsentRule is the @consent directive: a field of a member's profile, contact details or
// activity resolves only when community.CanRead lets the caller read that scope of that
// member; otherwise the field is null with the rule's error.
func (r *Resolver) ConsentRule(ctx context.Context, obj any, next graphql.Resolver, scope community.ConsentScope) (any, error) {
	m, ok := obj.(*community.Member)
	if !ok {
		return nil, community.Errorf(community.CodeInternal, "@consent on a field of %T", obj)
	}
	a := community.ActorFrom(ctx)
	var consents []community.Consent
	if community.NeedsConsent(a, m.ID) {
		var err error
		if consents, err = r.loadersFor(ctx).RuleConsents.Get(ctx, m.ID); err != nil {
			return nil, err
		}
	}
	if err := community.CanRead(a, m.ID, scope, consents); err != nil {
		return nil, err
	}
	return next(ctx)
}
