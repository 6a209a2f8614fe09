// A doubly linked list threaded through slots of an array, by 16-bit IDs (slot
// index + 1; 0 = none): each L2TP tunnel lists its sessions this way, so a
// tunnel going down visits only its own sessions, and nothing allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace l2sec {

/// The links a listed element carries.
struct list_hook {
    std::uint16_t next = 0, prev = 0;
};

/// The head of one list. Its operations take `at`, a callable that maps an ID
/// to the element's list_hook (`list_hook& at(std::uint16_t)`), so the same
/// slots can be listed by different heads. push_front, push_back and erase are O(1).
class intrusive_list {
  public:
    std::uint16_t front() const noexcept { return first_; }
    /// The last ID (the oldest one pushed at the front, the newest pushed at the back).
    std::uint16_t back() const noexcept { return last_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return first_ == 0; }

    /// Whether `id` is on this list (its hook says so, or it is the head).
    template <class At>
    bool contains(At&& at, std::uint16_t id) const noexcept {
        return id != 0 && (at(id).prev != 0 || first_ == id);
    }

    /// Put `id` (not on any list) first.
    template <class At>
    void push_front(At&& at, std::uint16_t id) noexcept {
        auto& h = at(id);
        h.prev = 0;
        h.next = first_;
        if (first_ != 0)
            at(first_).prev = id;
        else
            last_ = id;
        first_ = id;
        ++size_;
    }

    /// Put `id` (not on any list) last.
    template <class At>
    void push_back(At&& at, std::uint16_t id) noexcept {
        if (first_ == 0) return push_front(at, id);
        auto& h = at(id);
        h.next = 0;
        h.prev = last_;
        at(last_).next = id;
        last_ = id;
        ++size_;
    }

    /// Take `id` off the list. False (nothing changes) when it is not on it.
    template <class At>
    bool erase(At&& at, std::uint16_t id) noexcept {
        if (!contains(at, id)) return false;
        auto& h = at(id);
        if (h.prev != 0)
            at(h.prev).next = h.next;
        else
            first_ = h.next;
        if (h.next != 0)
            at(h.next).prev = h.prev;
        else
            last_ = h.prev;
        h.next = h.prev = 0;
        --size_;
        return true;
    }

    /// The ID after `id`, 0 at the end.
    template <class At>
    static std::uint16_t next(At&& at, std::uint16_t id) noexcept {
        return at(id).next;
    }

    void clear() noexcept { first_ = last_ = size_ = 0; }

  private:
    std::uint16_t first_ = 0, last_ = 0;
    std::uint16_t size_ = 0;
};

}  // namespace l2sec
