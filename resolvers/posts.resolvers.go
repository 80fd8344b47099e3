package resolvers

import (
	"context"
	"time"

	"quanzi/community"
	"quanzi/graph"
	"quanzi/graph/model"
)

func (r *clubResolver) Posts(ctx context.Context, obj *community.Club, first *int, after *string, sort *community.PostSort, window *community.TopWindow) (*model.PostConnection, error) {
	s, w := community.SortNew, community.WindowWeek
	if sort != nil {
		s = *sort
	}
	if window != nil {
		w = *window
	}
	l, err := r.Service.ClubPosts(ctx, obj.ID, s, w, intArg(first, community.DefaultPageSize), stringArg(after))
	if err != nil {
		return nil, err
	}
	posts := make([]community.Post, len(l.Posts))
	for i, p := range l.Posts {
		posts[i] = p.Post
	}
	r.preparePosts(ctx, posts, "edges", "node")
	return &model.PostConnection{Edges: l.Posts, PageInfo: pageInfo(l.More, l.Posts, func(p community.ListedPost) string { return p.Cursor })}, nil
}

func (r *commentResolver) Post(ctx context.Context, obj *community.Comment) (*community.Post, error) {
	return r.existingPost(ctx, obj.PostID)
}

func (r *commentResolver) Author(ctx context.Context, obj *community.Comment) (*community.Member, error) {
	return r.existingMember(ctx, obj.AuthorID)
}

func (r *commentResolver) EditedAt(ctx context.Context, obj *community.Comment) (*time.Time, error) {
	return optionalTime(obj.EditedAt), nil
}

func (r *commentResolver) Deleted(ctx context.Context, obj *community.Comment) (bool, error) {
	return !obj.DeletedAt.IsZero(), nil
}

func (r *commentResolver) ReactionCounts(ctx context.Context, obj *community.Comment) ([]model.ReactionCount, error) {
	return reactionCounts(obj.Reactions), nil
}

func (r *commentResolver) ViewerReactions(ctx context.Context, obj *community.Comment) ([]community.ReactionKind, error) {
	return list(r.loadersFor(ctx).ViewerReactions.Load(ctx, obj.ID)())
}

func (r *commentResolver) Replies(ctx context.Context, obj *community.Comment, first *int, after *string) (*model.CommentConnection, error) {
	return r.comments(ctx, obj.ID, first, after)
}

func (r *commentEdgeResolver) Node(ctx context.Context, obj *community.ListedComment) (*community.Comment, error) {
	return &obj.Comment, nil
}

func (r *feedEdgeResolver) Node(ctx context.Context, obj *community.ListedFeedItem) (*community.Post, error) {
	return r.existingPost(ctx, obj.PostID)
}

func (r *feedEdgeResolver) SharedBy(ctx context.Context, obj *community.ListedFeedItem) (*community.Member, error) {
	if obj.SharedBy == "" {
		return nil, nil
	}
	return r.existingMember(ctx, obj.SharedBy)
}

func (r *mutationResolver) CreatePost(ctx context.Context, input model.CreatePostInput) (*model.PostPayload, error) {
	p, err := r.Service.CreatePost(ctx, input.ClubID, community.PostInput{Title: input.Title, Body: input.Body, Tags: input.Tags})
	return r.postPayload(ctx, p, err)
}

func (r *mutationResolver) EditPost(ctx context.Context, input model.EditPostInput) (*model.PostPayload, error) {
	p, err := r.Service.EditPost(ctx, input.PostID, community.PostInput{Title: input.Title, Body: input.Body, Tags: input.Tags})
	return r.postPayload(ctx, p, err)
}

func (r *mutationResolver) DeletePost(ctx context.Context, input model.DeletePostInput) (*model.PostPayload, error) {
	p, err := r.Service.DeletePost(ctx, input.PostID)
	return r.postPayload(ctx, p, err)
}

func (r *mutationResolver) AddComment(ctx context.Context, input model.AddCommentInput) (*model.CommentPayload, error) {
	c, err := r.Service.AddComment(ctx, input.PostID, deref(input.ReplyTo), input.Body)
	return r.commentPayload(ctx, c, err)
}

func (r *mutationResolver) EditComment(ctx context.Context, input model.EditCommentInput) (*model.CommentPayload, error) {
	c, err := r.Service.EditComment(ctx, input.CommentID, input.Body)
	return r.commentPayload(ctx, c, err)
}

func (r *mutationResolver) DeleteComment(ctx context.Context, input model.DeleteCommentInput) (*model.CommentPayload, error) {
	c, err := r.Service.DeleteComment(ctx, input.CommentID)
	if err == nil {
		c.Body = ""
	}
	return r.commentPayload(ctx, c, err)
}

func (r *mutationResolver) React(ctx context.Context, input model.ReactionInput) (*model.ReactionPayload, error) {
	if err := r.Service.React(ctx, input.TargetID, input.Kind, true); err != nil {
		return nil, err
	}
	r.wrote(ctx)
	return &model.ReactionPayload{TargetID: input.TargetID, Reacted: true}, nil
}

func (r *mutationResolver) Unreact(ctx context.Context, input model.ReactionInput) (*model.ReactionPayload, error) {
	if err := r.Service.React(ctx, input.TargetID, input.Kind, false); err != nil {
		return nil, err
	}
	r.wrote(ctx)
	return &model.ReactionPayload{TargetID: input.TargetID, Reacted: false}, nil
}

func (r *mutationResolver) SharePost(ctx context.Context, input model.SharePostInput) (*model.PostPayload, error) {
	p, err := r.Service.SharePost(ctx, input.PostID, input.Channel)
	return r.postPayload(ctx, p, err)
}

func (r *postResolver) Author(ctx context.Context, obj *community.Post) (*community.Member, error) {
	return r.existingMember(ctx, obj.AuthorID)
}

func (r *postResolver) Club(ctx context.Context, obj *community.Post) (*community.Club, error) {
	return r.existingClub(ctx, obj.ClubID)
}

func (r *postResolver) EditedAt(ctx context.Context, obj *community.Post) (*time.Time, error) {
	return optionalTime(obj.EditedAt), nil
}

func (r *postResolver) ReactionCounts(ctx context.Context, obj *community.Post) ([]model.ReactionCount, error) {
	return reactionCounts(obj.Reactions), nil
}

func (r *postResolver) ViewerReactions(ctx context.Context, obj *community.Post) ([]community.ReactionKind, error) {
	return list(r.loadersFor(ctx).ViewerReactions.Load(ctx, obj.ID)())
}

func (r *postResolver) SharesByChannel(ctx context.Context, obj *community.Post) ([]model.ShareCount, error) {
	out := []model.ShareCount{}
	for _, c := range community.ShareChannels {
		if n := obj.SharesByChannel[c]; n > 0 {
			out = append(out, model.ShareCount{Channel: c, Count: n})
		}
	}
	return out, nil
}

func (r *postResolver) Comments(ctx context.Context, obj *community.Post, first *int, after *string) (*model.CommentConnection, error) {
	return r.comments(ctx, obj.ID, first, after)
}

func (r *postEdgeResolver) Node(ctx context.Context, obj *community.ListedPost) (*community.Post, error) {
	return &obj.Post, nil
}

func (r *queryResolver) Post(ctx context.Context, id string) (*community.Post, error) {
	return r.loadersFor(ctx).Posts.Load(ctx, id)()
}

func (r *queryResolver) Feed(ctx context.Context, first *int, after *string) (*model.FeedConnection, error) {
	items, more, err := r.Service.Feed(ctx, intArg(first, community.DefaultPageSize), stringArg(after))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.PostID
	}
	r.prefetchPosts(ctx, ids, "edges", "node")
	return &model.FeedConnection{Edges: items, PageInfo: pageInfo(more, items, func(it community.ListedFeedItem) string { return it.Cursor })}, nil
}

func (r *Resolver) Comment() graph.CommentResolver { return &commentResolver{r} }

func (r *Resolver) CommentEdge() graph.CommentEdgeResolver { return &commentEdgeResolver{r} }

func (r *Resolver) FeedEdge() graph.FeedEdgeResolver { return &feedEdgeResolver{r} }

func (r *Resolver) Post() graph.PostResolver { return &postResolver{r} }

func (r *Resolver) PostEdge() graph.PostEdgeResolver { return &postEdgeResolver{r} }

type (
	commentResolver     struct{ *Resolver }
	commentEdgeResolver struct{ *Resolver }
	feedEdgeResolver    struct{ *Resolver }
	postResolver        struct{ *Resolver }
	postEdgeResolver    struct{ *Resolver }
)
