package embedded

import "quanzi/community"

// SetReferralFlags sets the flags of a member's referral in memory, as the detection of
// fraud signals at redemption would have.
func SetReferralFlags(s *Store, memberID string, flags []community.ReferralFlag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.referredBy[memberID]; r != nil {
		r.Flags = flags
	}
}

// SetPoints sets a member's points in a brand's programme in memory, as spending them
// would.
func SetPoints(s *Store, memberID, brandID string, points int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.brands[brandID]; b != nil && b.members[memberID] != nil {
		b.members[memberID].Points = points
	}
}
