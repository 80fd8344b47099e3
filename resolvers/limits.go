package resolvers

import (
	"time"

	"quanzi/community"
	"quanzi/graph"
	"quanzi/graph/model"
	"quanzi/search"
)

// DefaultMentions is how many members searchMembers returns when first is not given.
const DefaultMentions = 10

// Complexity returns gqlgen's complexity functions: a list field costs its page size times
// what each item costs, so a query's cost bounds the store work it can cause.
func Complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	page := func(child int, first *int, def int) int {
		n := def
		if first != nil && *first > 0 {
			n = *first
		}
		return 1 + n*child
	}
	c.Member.Followers = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Member.Following = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Member.MutualFollows = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Member.SuggestedFollows = func(child int, first *int) int { return page(child, first, community.DefaultSuggestions) }
	// A chain is read in one round trip however long; its members cost what each costs.
	c.Member.ReferralChain = func(child int, maxDepth *int) int {
		return 1 + min(max(intArg(maxDepth, community.DefaultChainDepth), 1), community.MaxChainDepth)*child
	}
	// A path is walked in one round trip however deep; its links are costed as a chain at
	// its deepest limit, each costing what its member costs.
	c.ReferralPath.Links = func(child int) int { return 1 + community.MaxChainDepth*child }
	c.Query.TopReferrers = func(child int, _ string, _ *string, _, _ *time.Time, by *community.ReferrerRanking, first *int) int {
		return page(child, first, community.DefaultTopReferrers) + rankingCost(by)
	}
	// A level of a downline is one round trip; its members cost what each costs. Level 1 is
	// a seek of an index; a deeper level reads the levels above it in the store, which its
	// page size does not show: each level below the first adds downlineLevelCost.
	c.Member.Referrals = func(child int, level *int, first *int, _ *string) int {
		deeper := min(max(intArg(level, community.DefaultDownlineLevel), 1), community.DownlineLevels) - 1
		return page(child, first, community.DefaultPageSize) + deeper*downlineLevelCost
	}
	c.Member.ConsentHistory = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	// A page of rewards or points history is one round trip for every member asked; each
	// reward's campaign, brand and members cost what each costs.
	c.Member.Rewards = func(child int, _ *community.RewardStatus, _ *string, first *int, _ *string) int {
		return page(child, first, community.DefaultPageSize)
	}
	c.Member.PointsHistory = func(child int, _ string, first *int, _ *string) int {
		return page(child, first, community.DefaultPageSize)
	}
	c.Query.ReferralReviewQueue = func(child int, _ string, first *int, _ *string) int {
		return page(child, first, community.DefaultPageSize)
	}
	// A reward's reviews are a decision or a few: an approval keeps it pending for another,
	// a rejection ends it.
	c.Reward.Reviews = func(child int) int { return 1 + typicalReviews*child }
	c.Brand.Members = func(child int, first *int, _ *string, _ *string) int {
		return page(child, first, community.DefaultPageSize)
	}
	c.Brand.ReferralCampaigns = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	// A brand hosts a handful of clubs, each of whose lists is one round trip: they are
	// costed as ten, so that lists inside them stay bounded.
	c.Brand.Clubs = func(child int) int { return 1 + 10*child }
	c.Club.Members = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Club.Moderators = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Club.Managers = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Club.JoinRequests = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	// A ranked page costs its ranking too: HOT reads the counters of up to HotCandidates
	// posts, and TOP those of every post of its window, however small the page. Counters
	// carry no text, so ten of them cost as one item: HOT, and TOP over a DAY or a WEEK,
	// cost HotCandidates/10 more than their page; a MONTH four times that, ALL (the club's
	// whole history) ten times.
	c.Club.Posts = func(child int, first *int, _ *string, sort *community.PostSort, window *community.TopWindow) int {
		rank := 0
		switch {
		case sort == nil || *sort == community.SortNew:
		case *sort == community.SortTop && window != nil && *window == community.WindowMonth:
			rank = 4 * community.HotCandidates / 10
		case *sort == community.SortTop && window != nil && *window == community.WindowAll:
			rank = 10 * community.HotCandidates / 10
		default:
			rank = community.HotCandidates / 10
		}
		return page(child, first, community.DefaultPageSize) + rank
	}
	c.Post.Comments = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Comment.Replies = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Query.Feed = func(child int, first *int, _ *string) int { return page(child, first, community.DefaultPageSize) }
	c.Query.SearchPosts = func(child int, _ string, _ *model.PostSearchFilter, _ *search.Sort, first *int, _ *string) int {
		return page(child, first, search.DefaultFirst) + searchCost
	}
	c.PostSearchFacets.Clubs = func(child int) int { return 1 + search.MaxFacets*child }
	c.PostSearchFacets.Tags = func(child int) int { return 1 + search.MaxFacets*child }
	c.Query.SearchMembers = func(child int, _ string, first *int) int { return page(child, first, DefaultMentions) }
	// Lists without pages are costed by about how long they grow: a member's purchases in
	// a brand by a busy customer's, the rest by a handful.
	c.Member.Purchases = func(child int, _ *string) int { return 1 + typicalPurchases*child }
	c.Member.BrandMemberships = func(child int) int { return 1 + typicalFew*child }
	c.Member.Consents = func(child int) int { return 1 + typicalFew*child }
	c.Brand.Partners = func(child int) int { return 1 + typicalFew*child }
	return c
}

// rankingCost is what a ranking of referrers costs beside its page: it reads every
// referral of the brand's campaigns in its window, however few rows it returns, like a
// club's TOP posts of ALL time. CONVERTED looks at each referee's purchases too, and
// TOTAL walks each referrer's whole upline: on a forest of 20,000 members their store
// work measured 2.5 and 5 times DIRECT's on Neo4j (10 and 2.5 times on the embedded
// store). TOTAL is held below the whole budget, so that one ranking of it still fits a
// request with its page.
func rankingCost(by *community.ReferrerRanking) int {
	switch {
	case by == nil || *by == community.RankDirect:
		return referralScanCost
	case *by == community.RankConverted:
		return referralScanCost * 5 / 2
	}
	return referralScanCost * 4
}

// Costs of work that page sizes do not show.
const (
	// referralScanCost is a ranking's reading of the referrals in its window.
	referralScanCost = community.HotCandidates
	// searchCost is a search's own work: the engine scores every hit of the query (up to
	// the 1,000 a page may reach) before the page is cut.
	searchCost = 50
	// typicalPurchases, typicalFew and typicalReviews are the lengths unpaged lists are
	// costed at.
	typicalPurchases = 50
	typicalFew       = 10
	typicalReviews   = 3
	// downlineLevelCost is what each level of a downline below the first adds to a page of
	// it: the members of the levels above are read to find the level's.
	downlineLevelCost = 10
)
